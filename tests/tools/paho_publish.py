#!/usr/bin/python3
"""Publishes MQTT messages with Eclipse Paho (a client library other than FactoryOps' own), as
integration tests need: one message per line of the payload file, QoS 1, waiting for every
acknowledgement. A message refused while the broker is away (restarting) is published again
once it is back, so every line ends up acknowledged; exit status 0 when every one was.

usage: paho_publish.py HOST PORT USERNAME TOPIC PAYLOAD_FILE [--rate N]
"""
import sys
import time

import paho.mqtt.client as mqtt


def main():
    host, port, username, topic, payload_file = sys.argv[1:6]
    rate = float(sys.argv[7]) if len(sys.argv) > 7 and sys.argv[6] == "--rate" else 0.0
    with open(payload_file, encoding="utf-8") as f:
        payloads = [line.rstrip("\n") for line in f if line.strip()]
    client = mqtt.Client(client_id="", clean_session=True, protocol=mqtt.MQTTv311)
    client.username_pw_set(username, username)
    client.connect(host, int(port), keepalive=30)
    client.loop_start()
    infos = []
    for payload in payloads:
        infos.append((payload, client.publish(topic, payload, qos=1)))
        if rate > 0:
            time.sleep(1.0 / rate)
    deadline = time.monotonic() + 90
    pending = infos
    while pending:
        if time.monotonic() > deadline:
            print("not acknowledged: %d messages" % len(pending), file=sys.stderr)
            sys.exit(1)
        retry = []
        for payload, info in pending:
            try:
                info.wait_for_publish(timeout=5)
                if info.is_published():
                    continue
            except (RuntimeError, ValueError):
                pass
            time.sleep(0.05)
            retry.append((payload, client.publish(topic, payload, qos=1)))
        pending = retry
    client.disconnect()
    client.loop_stop()
    print("published %d" % len(payloads))


if __name__ == "__main__":
    main()
