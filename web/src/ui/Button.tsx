import type { ButtonHTMLAttributes, ReactNode } from 'react';
import type { LucideIcon } from 'lucide-react';

/**
 * The UI kit's button: an icon from lucide-react (decorative, aria-hidden) and a
 * text label. `compact` hides the label visually on narrow screens but keeps
 * it as the accessible name.
 */
export function Button({
  icon: Icon,
  children,
  variant,
  compact,
  className,
  ...rest
}: ButtonHTMLAttributes<HTMLButtonElement> & {
  icon?: LucideIcon;
  variant?: 'primary' | 'danger' | 'off';
  compact?: boolean;
  children: ReactNode;
}) {
  const cls = ['btn', variant ?? '', compact ? 'compact' : '', className ?? ''].filter(Boolean).join(' ');
  return (
    <button type="button" className={cls} {...rest}>
      {Icon && <Icon aria-hidden="true" focusable="false" className="icon" size={18} />}
      <span className="label">{children}</span>
    </button>
  );
}
