"""Socket handlers of moderation: captcha-solution."""

from __future__ import annotations

from connect.gateway.dispatch import EventContext, Router
from connect.moderation.abuse import AbuseGuard
from connect.moderation.schemas import CaptchaSolution


def register(router: Router, abuse: AbuseGuard) -> None:
    async def captcha_solution(ctx: EventContext, p: CaptchaSolution) -> None:
        abuse.solve(ctx.client.subject, p.payload)

    router.add("captcha-solution", CaptchaSolution, captcha_solution)
