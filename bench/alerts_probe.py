#!/usr/bin/python3
"""Publish-to-alert-opened latency: publishes a reading over a zero-duration rule's threshold to a
device's telemetry topic (QoS 1) and polls GET /api/v1/alerts until an open alert of that device
is there; then publishes one under the threshold and waits until the alert has cleared, and
repeats. An alert not open within 10 s counts as 10 s. Prints "p50_ms p99_ms samples late" on
its last line.

usage: alerts_probe.py HOST PORT KEY FACTORY DEVICE API_URL TOKEN SAMPLES
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


def open_alerts(api, token, device):
    request = urllib.request.Request(
        "%s/api/v1/alerts?device_id=%s&status=open,acknowledged" % (api, device),
        headers={"Authorization": "Bearer " + token},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.load(answer)["total"]


def wait_for(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return False


def main():
    host, port, key, factory, device, api, token, samples = sys.argv[1:9]
    client = mqtt.Client(client_id="", clean_session=True, protocol=mqtt.MQTTv311)
    client.username_pw_set(key, key)
    client.connect(host, int(port), keepalive=30)
    client.loop_start()
    topic = "factories/%s/devices/%s/telemetry" % (factory, device)
    latencies = []
    late = 0
    for _ in range(int(samples)):
        started = time.monotonic()
        client.publish(topic, json.dumps({"probe_kw": 150}), qos=1).wait_for_publish()
        if wait_for(lambda: open_alerts(api, token, device) > 0, 10):
            latencies.append((time.monotonic() - started) * 1000)
        else:
            latencies.append(10000.0)
            late += 1
        client.publish(topic, json.dumps({"probe_kw": 50}), qos=1).wait_for_publish()
        wait_for(lambda: open_alerts(api, token, device) == 0, 10)
    client.loop_stop()
    print("%.1f %.1f %d %d" % (percentile(latencies, 0.5), percentile(latencies, 0.99), len(latencies), late))


if __name__ == "__main__":
    main()
