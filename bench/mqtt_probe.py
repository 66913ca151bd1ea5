#!/usr/bin/python3
"""Publish-to-queryable latency of MQTT ingestion: publishes a numbered reading (QoS 1) to a
device's telemetry topic, then polls GET /api/v1/devices/{id}/telemetry/latest until that number
is there, and repeats. A reading not queryable within 10 s counts as 10 s. Prints "p50_ms p99_ms
samples late" on its last line (late: readings that took the full 10 s).

usage: mqtt_probe.py HOST PORT KEY FACTORY DEVICE API_URL TOKEN SAMPLES
"""
import json
import sys
import time
import urllib.request

import paho.mqtt.client as mqtt


def percentile(values, fraction):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(fraction * (len(ordered) - 1)))))
    return ordered[index]


def main():
    host, port, key, factory, device, api, token, samples = sys.argv[1:9]
    client = mqtt.Client(client_id="", clean_session=True, protocol=mqtt.MQTTv311)
    client.username_pw_set(key, key)
    client.connect(host, int(port), keepalive=30)
    client.loop_start()
    topic = "factories/%s/devices/%s/telemetry" % (factory, device)
    request = urllib.request.Request(
        "%s/api/v1/devices/%s/telemetry/latest?params=probe_seq" % (api, device),
        headers={"Authorization": "Bearer " + token},
    )
    latencies = []
    late = 0
    base = int(time.time() * 1000)
    for i in range(int(samples)):
        value = base + i
        started = time.monotonic()
        client.publish(topic, json.dumps({"probe_seq": value}), qos=1)
        deadline = started + 10
        while time.monotonic() < deadline:
            with urllib.request.urlopen(request, timeout=5) as answer:
                body = json.load(answer)
            items = body.get("values") or []
            if any(item.get("value") == value for item in items if isinstance(item, dict)):
                latencies.append((time.monotonic() - started) * 1000)
                seen = True
                break
            time.sleep(0.001)
        if not seen:
            latencies.append(10000.0)
            late += 1
        time.sleep(0.05)
    client.loop_stop()
    if late == len(latencies):
        print("no sample became queryable", file=sys.stderr)
        sys.exit(1)
    print("%.1f %.1f %d %d" % (percentile(latencies, 0.5), percentile(latencies, 0.99), len(latencies), late))


if __name__ == "__main__":
    main()
