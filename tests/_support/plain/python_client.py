"""A plain WebSocket client with no Floodgate code: Python `websockets` (Debian's
python3-websockets), reading every frame and never sending one. It prints one
JSON line when the message whose data has "last": true arrives (or the
connection closes), then exits.

    /usr/bin/python3 python_client.py ws://127.0.0.1:8080/ws?topics=feed
"""
import asyncio
import json
import sys

import websockets


async def main(url):
    seqs, gaps, types, last_bytes, closed = [], 0, set(), 0, None
    async with websockets.connect(url, max_size=8 * 1024 * 1024) as ws:
        print(json.dumps({"ready": True}), flush=True)
        try:
            async for text in ws:
                frame = json.loads(text)
                types.add(frame["type"])
                items = frame["messages"] if frame["type"] == "batch" else [frame]
                done = False
                for item in items:
                    if item["type"] == "gap":
                        gaps += 1
                    elif item["type"] == "message":
                        seqs.append(item["seq"])
                        data = item.get("data")
                        if isinstance(data, dict) and data.get("last"):
                            last_bytes = len(text.encode("utf-8"))
                            done = True
                if done:
                    break
        except websockets.ConnectionClosed as e:
            closed = e.code
        open_at_end = ws.open
    print(json.dumps({
        "seqs": seqs,
        "gaps": gaps,
        "types": sorted(types),
        "lastFrameBytes": last_bytes,
        "closed": closed,
        "openAtEnd": open_at_end,
    }), flush=True)


asyncio.run(main(sys.argv[1]))
