"""Prints how much of a PNG screenshot is ink: pixels that differ from the background.

Usage: png_ink.py FILE
Prints `ink FRACTION top FRACTION` (the whole image, then its top 15 %), decoding the PNG with
the standard library only (8-bit RGB or RGBA, non-interlaced: what Chromium writes).
"""
import struct
import sys
import zlib
from collections import Counter

data = open(sys.argv[1], "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit("not a PNG")
position, chunks, header = 8, [], None
while position < len(data):
    length, kind = struct.unpack(">I4s", data[position:position + 8])
    body = data[position + 8:position + 8 + length]
    if kind == b"IHDR":
        header = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        chunks.append(body)
    position += 12 + length
width, height, depth, color, _, _, interlace = header
if depth != 8 or color not in (2, 6) or interlace != 0:
    sys.exit("unsupported PNG: depth %d color type %d interlace %d" % (depth, color, interlace))
channels = 3 if color == 2 else 4
stride = width * channels
raw = zlib.decompress(b"".join(chunks))
rows, previous = [], bytearray(stride)
for y in range(height):
    kind = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for x in range(stride):
        left = line[x - channels] if x >= channels else 0
        up = previous[x]
        up_left = previous[x - channels] if x >= channels else 0
        if kind == 1:
            line[x] = (line[x] + left) & 255
        elif kind == 2:
            line[x] = (line[x] + up) & 255
        elif kind == 3:
            line[x] = (line[x] + (left + up) // 2) & 255
        elif kind == 4:
            estimate = left + up - up_left
            pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - up_left)
            predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else up_left)
            line[x] = (line[x] + predictor) & 255
    rows.append(line)
    previous = line
pixels = [tuple(row[x:x + 3]) for row in rows for x in range(0, stride, channels)]
background = Counter(pixels).most_common(1)[0][0]


def ink(selection):
    marked = sum(1 for p in selection if sum(abs(a - b) for a, b in zip(p, background)) > 90)
    return marked / max(1, len(selection))


top = pixels[:width * max(1, height * 15 // 100)]
print("ink %.4f top %.4f" % (ink(pixels), ink(top)))
