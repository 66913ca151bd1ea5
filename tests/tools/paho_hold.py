#!/usr/bin/python3
"""Holds one MQTT connection open with Eclipse Paho, as a connected device would, optionally with
a last will. Prints "connected" once the broker accepts it and exits (status 3) as soon as the
connection is lost, so a test can see the broker drop it.

usage: paho_hold.py HOST PORT USERNAME [WILL_TOPIC WILL_PAYLOAD]
"""
import os
import sys

import paho.mqtt.client as mqtt


def main():
    host, port, username = sys.argv[1:4]
    client = mqtt.Client(client_id="", clean_session=True, protocol=mqtt.MQTTv311)
    client.username_pw_set(username, username)
    if len(sys.argv) >= 6:
        client.will_set(sys.argv[4], sys.argv[5], qos=1, retain=True)

    def on_connect(_client, _userdata, _flags, rc):
        if rc != 0:
            print("refused %d" % rc, flush=True)
            os._exit(2)
        print("connected", flush=True)

    def on_disconnect(_client, _userdata, rc):
        print("disconnected %d" % rc, flush=True)
        os._exit(3)

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    client.connect(host, int(port), keepalive=2)
    client.loop_forever()


if __name__ == "__main__":
    main()
