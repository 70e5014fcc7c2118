from connect.cli import main

raise SystemExit(main())
