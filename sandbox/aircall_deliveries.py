"""Aircall's side of webhook deliveries: which events go out, what counts as a failure, when a webhook
is deactivated, and the switch that makes deliveries fail for a stretch.

The simulator sends the webhooks itself, so before each attempt it asks the fake
(`POST /_sandbox/webhooks/deliveries {"url", "event", "retry"}`) and afterwards reports a failure, or a
success after failures (`POST /_sandbox/webhooks/{id}/outcomes {"ok"}`). The rule is
reference/aircall-next.md §3:
- a failure is an answer outside 2xx or none within 5 s; after N consecutive failures
  (`webhook_failures_to_deactivate`: 10 or 50 by the sources, 10 the harsher default) the webhook
  is deactivated;
- a deactivated webhook gets no new event, but Aircall keeps retrying the failed ones for 12 h and
  one success re-enables it;
- a webhook receives only the events it subscribes to.
`webhook_deliveries_fail` plays callbridge unreachable: every attempt fails without being sent.
A URL no webhook of the company names is delivered to as before (a webhook the fake does not list,
as tests and benches that register none use it); only the failure switch applies to it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.aircall_admin import WebhookRegistry
from sandbox.aircall_objects import Json

#: how long Aircall keeps retrying the events a webhook failed (reference §3)
RETRY_WINDOW_S = 12 * 3600.0


class DeliverySwitches(Protocol):
    webhook_failures_to_deactivate: int
    webhook_deliveries_fail: bool


class Deliveries:
    """Decides each delivery attempt over the company's webhooks and counts what happened."""

    def __init__(self, webhooks: WebhookRegistry, switches: DeliverySwitches, clock: Callable[[], float]) -> None:
        self.webhooks = webhooks
        self.switches = switches
        self.clock = clock
        #: "sent", "failed", "dropped_inactive", "dropped_unsubscribed", "reactivated", "deactivated"
        self.counts: Counter[str] = Counter()

    def reset(self) -> None:
        self.counts.clear()

    def gate(self, url: str, event: str, *, retry: bool) -> Json:
        """Whether this attempt goes out: `{"deliver", "reason", "webhook_id", "failures"}`."""
        named = [webhook for webhook in self.webhooks.webhooks.values() if webhook["url"] == url]
        target = next((webhook for webhook in named if webhook["active"]), None)
        if named and target is None:
            target = next((webhook for webhook in named if retry and self._retrying(webhook)), None)
            if target is None:
                return self._drop("inactive", named[0])
        if target is not None and event not in target["events"]:
            return self._drop("unsubscribed", target)
        webhook_id = None if target is None else str(target["webhook_id"])
        if self.switches.webhook_deliveries_fail:
            if webhook_id is not None:
                self.outcome(webhook_id, ok=False)
            else:
                self.counts["failed"] += 1
            return {"deliver": False, "reason": "failing", "webhook_id": webhook_id,
                    "failures": self.webhooks.failures.get(webhook_id or "", 0)}
        self.counts["sent"] += 1
        return {"deliver": True, "reason": None, "webhook_id": webhook_id,
                "failures": self.webhooks.failures.get(webhook_id or "", 0)}

    def outcome(self, webhook_id: str, *, ok: bool) -> Json:
        """Count one attempt's result; N failures in a row deactivate, a success re-enables (within 12 h)."""
        webhook = self.webhooks.webhooks.get(webhook_id)
        if webhook is None:
            raise KeyError(webhook_id)
        if ok:
            self.webhooks.failures.pop(webhook_id, None)
            if not webhook["active"] and self._retrying(webhook):
                webhook["active"] = True
                self.webhooks.disabled_at.pop(webhook_id, None)
                self.counts["reactivated"] += 1
            return webhook
        self.counts["failed"] += 1
        failures = self.webhooks.failures.get(webhook_id, 0) + 1
        self.webhooks.failures[webhook_id] = failures
        if webhook["active"] and failures >= self.switches.webhook_failures_to_deactivate:
            self.webhooks.deactivate(webhook)
            self.counts["deactivated"] += 1
        return webhook

    def as_json(self) -> Json:
        return {
            "counts": dict(self.counts),
            "webhook_deliveries_fail": self.switches.webhook_deliveries_fail,
            "webhook_failures_to_deactivate": self.switches.webhook_failures_to_deactivate,
            "webhooks": [{"webhook_id": webhook["webhook_id"], "url": webhook["url"], "active": webhook["active"],
                          "consecutive_failures": self.webhooks.failures.get(webhook["webhook_id"], 0)}
                         for webhook in self.webhooks.webhooks.values()],
        }

    def _retrying(self, webhook: Json) -> bool:
        disabled = self.webhooks.disabled_at.get(str(webhook["webhook_id"]))
        return disabled is not None and self.clock() - disabled < RETRY_WINDOW_S

    def _drop(self, why: str, webhook: Json) -> Json:
        self.counts[f"dropped_{why}"] += 1
        return {"deliver": False, "reason": why, "webhook_id": str(webhook["webhook_id"]),
                "failures": self.webhooks.failures.get(str(webhook["webhook_id"]), 0)}


def _bad(troubleshoot: str) -> JSONResponse:
    return JSONResponse({"error": "Bad Request", "troubleshoot": troubleshoot}, status_code=400)


def delivery_routes(deliveries: Deliveries) -> list[Route]:
    """`/_sandbox/webhooks/deliveries` (GET: counts and states; POST: ask for one attempt) and outcomes."""

    async def ask(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("url"), str) \
                or not isinstance(body.get("event"), str) or not isinstance(body.get("retry", False), bool):
            return _bad('the body must be {"url": "<webhook url>", "event": "<event>", "retry": false}')
        return JSONResponse(deliveries.gate(body["url"], body["event"], retry=body.get("retry", False)))

    async def report(request: Request) -> Response:
        try:
            body: Any = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("ok"), bool):
            return _bad('the body must be {"ok": true|false}')
        try:
            webhook = deliveries.outcome(request.path_params["webhook_id"], ok=body["ok"])
        except KeyError:
            return JSONResponse({"error": "Not found", "troubleshoot": "No such webhook."}, status_code=404)
        return JSONResponse({"webhook_id": webhook["webhook_id"], "active": webhook["active"],
                             "consecutive_failures": deliveries.webhooks.failures.get(webhook["webhook_id"], 0)})

    async def show(request: Request) -> Response:
        return JSONResponse(deliveries.as_json())

    return [
        Route("/_sandbox/webhooks/deliveries", show, methods=["GET"]),
        Route("/_sandbox/webhooks/deliveries", ask, methods=["POST"]),
        Route("/_sandbox/webhooks/{webhook_id}/outcomes", report, methods=["POST"]),
    ]
