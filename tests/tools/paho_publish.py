#!/usr/bin/python3
"""Publishes MQTT messages with Eclipse Paho (a client library other than FactoryOps' own), as
integration tests need: one message per line of the payload file, QoS 1, waiting for every
acknowledgement. Exit status 0 when every publish was acknowledged by the broker.

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
        infos.append(client.publish(topic, payload, qos=1))
        if rate > 0:
            time.sleep(1.0 / rate)
    for info in infos:
        info.wait_for_publish(timeout=30)
        if not info.is_published():
            print("not acknowledged: mid %d" % info.mid, file=sys.stderr)
            sys.exit(1)
    client.disconnect()
    client.loop_stop()
    print("published %d" % len(infos))


if __name__ == "__main__":
    main()
