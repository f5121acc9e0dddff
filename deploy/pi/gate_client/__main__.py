"""python -m gate_client --config config.json [--simulate DIR [--once]]"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from gate_client.camera import Camera, FolderCamera, OpenCvCamera
from gate_client.client import GateClient
from gate_client.orders import OrderPoller
from gate_client.protocol import Credentials, GateApi
from gate_client.readers import reader_from
from gate_client.relay import SerialRelay, relay_from
from gate_client.spool import Spool


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gate_client", description=__doc__)
    parser.add_argument("--config", type=Path, required=True, help="From gate_device_add.")
    parser.add_argument("--simulate", type=Path, help="Read frames from this folder.")
    parser.add_argument("--once", action="store_true", help="Stop at the end of the folder.")
    parser.add_argument("--interval", type=float, default=0.5, help="Seconds between frames.")
    parser.add_argument("--camera", default="0", help="OpenCV device index or URL.")
    parser.add_argument("--on-motion", action="store_true", help="Send only frames with motion.")
    parser.add_argument("--size", default="1280x720", help="Camera capture size.")
    parser.add_argument("--relay", default="log", help="gpio:PIN, log or file:PATH")
    parser.add_argument("--pulse", type=float, default=1.0, help="Seconds the relay stays on.")
    parser.add_argument("--state-dir", type=Path, default=Path("state"))
    parser.add_argument("--queue-max-frames", type=int, default=2000)
    parser.add_argument("--queue-max-mb", type=float, default=500.0)
    parser.add_argument("--offline-reader", choices=["filename", "engine", "none"])
    parser.add_argument("--models", type=Path, default=Path("models"))  # holds detector/ and ocr/
    parser.add_argument("--refresh", type=float, default=60.0, help="Access list refresh, s.")
    parser.add_argument("--retry", type=float, default=2.0, help="Seconds between reconnects.")
    parser.add_argument(
        "--command-poll", type=float, default=2.0,
        help="Seconds between asking for operators' orders (open now); 0: never ask.",
    )  # fmt: skip
    parser.add_argument(
        "--park-after", type=int, default=5,
        help="Server errors in a row on one queued frame before it is parked, if the server "
        "takes the frame behind it.",
    )  # fmt: skip
    parser.add_argument("--timeout", type=float, default=5.0, help="HTTP timeout, s.")
    parser.add_argument(
        "--drain-timeout", type=float, default=120.0,
        help="With --once: how long to keep sending queued frames after the folder ends.",
    )  # fmt: skip
    return parser


def _camera(args: argparse.Namespace) -> Camera:
    if args.simulate:
        return FolderCamera(args.simulate, interval_s=args.interval, once=args.once)
    width, _, height = args.size.partition("x")
    device = int(args.camera) if args.camera.isdigit() else args.camera
    return OpenCvCamera(
        device, interval_s=args.interval, on_motion=args.on_motion,
        width=int(width), height=int(height),
    )  # fmt: skip


def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")
    config = json.loads(args.config.read_text())
    credentials = Credentials(config["server"], config["device_id"], config["secret"])
    api = GateApi(credentials, timeout_s=args.timeout)
    relay = SerialRelay(relay_from(args.relay, pulse_s=args.pulse))
    args.state_dir.mkdir(parents=True, exist_ok=True)
    offline_reader = args.offline_reader or ("filename" if args.simulate else "none")
    client = GateClient(
        api=api,
        camera=_camera(args),
        relay=relay,
        spool=Spool(
            args.state_dir / "queue",
            max_frames=args.queue_max_frames,
            max_bytes=int(args.queue_max_mb * 1024 * 1024),
        ),
        reader=reader_from(offline_reader, models_dir=args.models),
        state_dir=args.state_dir,
        out=sys.stdout,
        refresh_s=args.refresh,
        retry_s=args.retry,
        park_after=args.park_after,
    )
    poller = None
    if args.command_poll > 0:
        poller = OrderPoller(
            api=GateApi(credentials, timeout_s=args.timeout),
            relay=relay,
            emit=client.print_line,
            poll_s=args.command_poll,
        )
        poller.start()
    try:
        client.run(drain_timeout_s=args.drain_timeout if args.once else 0.0)
    except KeyboardInterrupt:
        return 130
    finally:
        if poller is not None:
            poller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(get_args_parser().parse_args()))
