#!/usr/bin/env python3
"""Sign (or verify) a webhook body with an official provider library.

    sign.py sign   SCHEME SECRET TIMESTAMP [MSG_ID]   < body
    sign.py verify SCHEME SECRET NAME=VALUE...         < body

SCHEME is one of stripe, standard_webhooks, svix, slack. `sign` prints the headers the
library produces, one `name: value` per line. `verify` exits 0 when the library accepts the
given headers (with its own clock) and 1, with the reason on stderr, when it does not.
The body is read from stdin as UTF-8 text (the libraries sign text).
"""

import sys
from datetime import datetime, timezone


def sign(scheme, secret, timestamp, msg_id, body):
    ts = int(timestamp)
    when = datetime.fromtimestamp(ts, tz=timezone.utc)
    if scheme == "stripe":
        import stripe

        header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=ts)
        return [("stripe-signature", header)]
    if scheme == "standard_webhooks":
        from standardwebhooks.webhooks import Webhook

        signature = Webhook(secret).sign(msg_id, when, body)
        return [("webhook-id", msg_id), ("webhook-timestamp", str(ts)), ("webhook-signature", signature)]
    if scheme == "svix":
        from svix.webhooks import Webhook

        signature = Webhook(secret).sign(msg_id, when, body)
        return [("svix-id", msg_id), ("svix-timestamp", str(ts)), ("svix-signature", signature)]
    if scheme == "slack":
        from slack_sdk.signature import SignatureVerifier

        signature = SignatureVerifier(secret).generate_signature(timestamp=str(ts), body=body)
        return [("x-slack-request-timestamp", str(ts)), ("x-slack-signature", signature)]
    raise SystemExit(f"unknown scheme {scheme!r}")


def verify(scheme, secret, headers, body):
    if scheme == "standard_webhooks":
        from standardwebhooks.webhooks import Webhook

        # The body is not always JSON (form-encoded bodies are signed too).
        Webhook(secret).verify(body, headers, json_parse=False)
    elif scheme == "svix":
        from svix.webhooks import Webhook

        Webhook(secret).verify(body, headers)
    elif scheme == "stripe":
        import stripe

        stripe.WebhookSignature.verify_header(body, headers["stripe-signature"], secret, tolerance=300)
    elif scheme == "slack":
        from slack_sdk.signature import SignatureVerifier

        if not SignatureVerifier(secret).is_valid_request(body, headers):
            raise ValueError("slack_sdk rejected the request")
    else:
        raise SystemExit(f"unknown scheme {scheme!r}")


def main(argv):
    body = sys.stdin.buffer.read().decode("utf-8")
    if len(argv) >= 5 and argv[1] == "sign":
        msg_id = argv[5] if len(argv) > 5 else "msg_interop"
        for name, value in sign(argv[2], argv[3], argv[4], msg_id, body):
            print(f"{name}: {value}")
        return 0
    if len(argv) >= 4 and argv[1] == "verify":
        headers = dict(arg.split("=", 1) for arg in argv[4:])
        try:
            verify(argv[2], argv[3], headers, body)
        except Exception as error:  # the libraries raise their own error types
            print(f"rejected: {type(error).__name__}: {error}", file=sys.stderr)
            return 1
        print("ok")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
