"""`python -m sandbox serve` runs both fakes; `python -m sandbox simulate` plays calls as webhooks;
`python -m sandbox webhook-outage` makes webhook deliveries fail for a stretch."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import anyio
import httpx
import uvicorn

from sandbox.aircall import AircallSandboxConfig
from sandbox.bullhorn import BullhornSandboxConfig
from sandbox.messages import play_demo_conversations
from sandbox.readings import add_reading_flags, readings_from_args
from sandbox.server import build_sandbox_app
from sandbox.simulator import simulate


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the Bullhorn (/bullhorn) and Aircall (/aircall) fakes")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8100)
    serve.add_argument("--bullhorn-latency-ms", type=float, default=0.0, help="added to every Bullhorn answer")
    serve.add_argument("--seed", type=int, default=None, help="demo tenant seed (default: the demo's)")
    serve.add_argument("--bullhorn-rest-host", default=None,
                       help="the host /login names in restUrl, as a swimlane does (e.g. localhost when serving "
                            "on 127.0.0.1; default: the host asked)")
    serve.add_argument("--bullhorn-events-refused", action="store_true",
                       help="the API user lacks the event subscription right (PUT event/subscription: 403)")
    serve.add_argument("--bullhorn-create-only", action="store_true",
                       help="the API user may create notes but not edit them (POST entity/Note/{id}: 403); "
                            "run callbridge with CALLBRIDGE_NOTE_MODE=once against it")
    serve.add_argument("--aircall-webhook-failures-to-deactivate", type=_positive, default=10, metavar="N",
                       help="consecutive failed deliveries after which Aircall deactivates a webhook (the sources "
                            "say 10 or 50; default 10)")
    serve.add_argument("--aircall-webhook-deliveries-fail", action="store_true",
                       help="start with every webhook delivery failing, as if callbridge were unreachable")
    serve.add_argument("--bullhorn-pipeline-refused", action="store_true",
                       help="the API user lacks the rights to read JobSubmission, Placement and JobOrder (403)")
    add_reading_flags(serve)
    serve.add_argument("--webhook-url", default="http://127.0.0.1:8000/webhooks/aircall",
                       help="the simulator's webhook the Aircall company starts with ('' for none)")

    play = commands.add_parser("simulate", help="play call lifecycles as Aircall webhooks")
    play.add_argument("--webhook-url", required=True, help="the only URL webhooks are sent to")
    play.add_argument("--token", required=True, help="the webhook token put in every envelope")
    play.add_argument("--aircall-url", default=None, help="Aircall fake base, to register each call's state")
    play.add_argument("--aircall-id", default="demo-api-id")
    play.add_argument("--aircall-token", default="demo-api-token")
    play.add_argument("--calls", type=int, default=20)
    play.add_argument("--seed", type=int, default=0, help="call mix seed")
    play.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second; 0: no waiting")
    play.add_argument("--redeliver", type=float, default=0.0, help="probability an event is delivered twice")
    play.add_argument("--shuffle", action="store_true", help="deliver events out of order within a small window")
    play.add_argument("--concurrency", type=int, default=10, help="calls in progress at once")
    play.add_argument("--rounds", type=int, default=1, help="batches of --calls to play (0: until stopped)")
    play.add_argument("--ai-share", type=float, default=0.5,
                      help="share of answered calls and voicemails that get Aircall AI events minutes later")
    play.add_argument("--pause", type=float, default=20.0, help="seconds between rounds")
    play.add_argument("--sms", action="store_true",
                      help="also send the demo's SMS conversations (a known caller over midnight UTC, an unknown "
                           "number) once, before the first round")

    outage = commands.add_parser("webhook-outage", help="make webhook deliveries fail for a stretch, then recover")
    outage.add_argument("--aircall-url", default="http://127.0.0.1:8100/aircall", help="the Aircall fake's base")
    outage.add_argument("--aircall-id", default="demo-api-id")
    outage.add_argument("--aircall-token", default="demo-api-token")
    outage.add_argument("--seconds", type=float, default=60.0, help="how long deliveries fail")
    return parser


def _positive(raw: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return int(raw)


def serve_configs(args: argparse.Namespace) -> tuple[BullhornSandboxConfig, AircallSandboxConfig]:
    """The fakes' configs `serve` was asked for, readings included."""
    bullhorn = BullhornSandboxConfig(latency_ms=args.bullhorn_latency_ms, rest_host=args.bullhorn_rest_host,
                                     event_subscriptions_allowed=not args.bullhorn_events_refused,
                                     note_edit_allowed=not args.bullhorn_create_only,
                                     pipeline_refused=args.bullhorn_pipeline_refused,
                                     **readings_from_args(args, "bullhorn"))
    return bullhorn, AircallSandboxConfig(webhook_failures_to_deactivate=args.aircall_webhook_failures_to_deactivate,
                                          webhook_deliveries_fail=args.aircall_webhook_deliveries_fail,
                                          **readings_from_args(args, "aircall"))


def webhook_outage(args: argparse.Namespace) -> int:
    """Deliveries fail for `--seconds` (each failure counts towards deactivation), then stop failing."""
    with httpx.Client(base_url=f"{args.aircall_url.rstrip('/')}/_sandbox", auth=(args.aircall_id, args.aircall_token),
                      timeout=10) as admin:
        admin.patch("/config", json={"webhook_deliveries_fail": True}).raise_for_status()
        print(f"webhook deliveries failing for {args.seconds:g} s", flush=True)
        try:
            time.sleep(args.seconds)
        finally:
            admin.patch("/config", json={"webhook_deliveries_fail": False}).raise_for_status()
        state = admin.get("/webhooks/deliveries").json()
    for webhook in state["webhooks"]:
        print(f"webhook {webhook['webhook_id']} {webhook['url']}: {'active' if webhook['active'] else 'DEACTIVATED'}")
    print(f"deliveries: {state['counts']}", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "webhook-outage":
        return webhook_outage(args)
    if args.command == "serve":
        bullhorn, aircall = serve_configs(args)
        app = build_sandbox_app(seed=args.seed, bullhorn_config=bullhorn, aircall_config=aircall,
                                demo_webhook_url=args.webhook_url or None)
        uvicorn.run(app, host=args.host, port=args.port, log_level="info")
        return 0

    async def run() -> None:
        played = 0
        if args.sms:
            statuses = await play_demo_conversations(args.webhook_url, args.token)
            print(f"SMS conversations: {len(statuses)} messages sent, answers {sorted(set(statuses))}", flush=True)
        while args.rounds == 0 or played < args.rounds:
            # each round is its own seed, so call ids never repeat across rounds
            summary = await simulate(
                webhook_url=args.webhook_url, token=args.token, calls=args.calls, seed=args.seed + played,
                speed=args.speed, redeliver=args.redeliver, shuffle=args.shuffle, concurrency=args.concurrency,
                aircall_url=args.aircall_url, aircall_auth=(args.aircall_id, args.aircall_token),
                ai_share=args.ai_share,
            )
            played += 1
            print(summary.as_text(), flush=True)
            if args.rounds == 0 or played < args.rounds:
                await anyio.sleep(args.pause)

    anyio.run(run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
