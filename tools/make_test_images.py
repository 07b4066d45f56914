#!/usr/bin/env python3
"""Make the committed digit test images in fixtures/images/ (deterministic).

Fifty pictures of the digits 0-9, five kinds per digit, made the ways real
digit pictures differ from MNIST:

  font     a DejaVu font (fonts-dejavu-core), dark ink on light paper, PNG
  inverse  a serif font, light ink on a dark background, off-centre, JPEG
  drawn    pen strokes drawn by this script, black ink on a transparent background (PNG with alpha)
  photo    a font on uneven gray "paper" with gradient lighting and noise, binary PGM (P5)
  odd      other sizes and aspect ratios: tiny ASCII PGM (P2), wide canvases,
           colored ink (RGB PNG), a condensed font

Layout: fixtures/images/<digit>/<kind>_<digit>.<ext>, one folder per class (so
`modelport evaluate --images fixtures/images` reads them as a dataset), plus
fixtures/images/labels.csv (file,label).

Usage: .venv/bin/python tools/make_test_images.py
"""
import csv
import math
import os
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "fixtures", "images")
FONTS = "/usr/share/fonts/truetype/dejavu"

# Pen strokes for each digit in a unit box (x right, y down); each stroke is a
# list of points, smoothed with Catmull-Rom splines. ("ellipse", x0, y0, x1, y1) draws an ellipse.
STROKES = {
    0: [("ellipse", 0.22, 0.08, 0.78, 0.92)],
    1: [[(0.35, 0.25), (0.55, 0.08), (0.55, 0.92)]],
    2: [[(0.2, 0.3), (0.35, 0.12), (0.6, 0.1), (0.78, 0.25), (0.72, 0.47), (0.45, 0.7), (0.2, 0.9), (0.85, 0.9)]],
    3: [[(0.2, 0.18), (0.45, 0.08), (0.72, 0.18), (0.7, 0.38), (0.45, 0.48), (0.72, 0.6), (0.75, 0.8), (0.5, 0.93), (0.2, 0.84)]],
    4: [[(0.62, 0.92), (0.62, 0.08), (0.15, 0.65), (0.88, 0.65)]],
    5: [[(0.78, 0.1), (0.32, 0.1), (0.27, 0.45), (0.55, 0.4), (0.77, 0.55), (0.75, 0.8), (0.5, 0.93), (0.2, 0.85)]],
    6: [[(0.7, 0.08), (0.42, 0.28), (0.27, 0.58), (0.32, 0.85), (0.52, 0.93), (0.72, 0.8), (0.72, 0.6), (0.5, 0.5), (0.3, 0.6)]],
    7: [[(0.15, 0.12), (0.85, 0.12), (0.6, 0.5), (0.42, 0.92)]],
    8: [("ellipse", 0.3, 0.08, 0.7, 0.48), ("ellipse", 0.24, 0.48, 0.76, 0.92)],
    9: [("ellipse", 0.25, 0.08, 0.75, 0.5), [(0.75, 0.3), (0.72, 0.6), (0.62, 0.92)]],
}


def catmull_rom(points, steps=12):
    if len(points) < 3:
        return points
    p = [points[0]] + points + [points[-1]]
    out = []
    for i in range(1, len(p) - 2):
        for s in range(steps):
            t = s / steps
            out.append(tuple(0.5 * (2 * p[i][k] + (-p[i - 1][k] + p[i + 1][k]) * t
                                    + (2 * p[i - 1][k] - 5 * p[i][k] + 4 * p[i + 1][k] - p[i + 2][k]) * t * t
                                    + (-p[i - 1][k] + 3 * p[i][k] - 3 * p[i + 1][k] + p[i + 2][k]) * t ** 3) for k in range(2)))
    out.append(points[-1])
    return out


def draw_strokes(digit, size, box, width, color, rng, mode="RGBA", background=(0, 0, 0, 0)):
    """Draws the digit's strokes inside box (x, y, w, h) with a little jitter."""
    image = Image.new(mode, size, background)
    draw = ImageDraw.Draw(image)
    bx, by, bw, bh = box
    jitter = lambda: rng.uniform(-0.025, 0.025)
    for stroke in STROKES[digit]:
        if stroke[0] == "ellipse":
            _, x0, y0, x1, y1 = stroke
            points = [((x0 + x1) / 2 + (x1 - x0) / 2 * math.cos(a), (y0 + y1) / 2 + (y1 - y0) / 2 * math.sin(a))
                      for a in np.linspace(0, 2 * math.pi, 48)]
        else:
            points = catmull_rom([(x + jitter(), y + jitter()) for x, y in stroke])
        pixels = [(bx + x * bw, by + y * bh) for x, y in points]
        draw.line(pixels, fill=color, width=width, joint="curve")
        r = width / 2
        for x, y in (pixels[0], pixels[-1]):
            draw.ellipse((x - r, y - r, x + r, y + r), fill=color)
    return image


def text_image(digit, size, font_file, font_size, ink, paper, offset=(0, 0), mode="L"):
    image = Image.new(mode, size, paper)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(os.path.join(FONTS, font_file), font_size)
    left, top, right, bottom = draw.textbbox((0, 0), str(digit), font=font)
    x = (size[0] - (right - left)) / 2 - left + offset[0]
    y = (size[1] - (bottom - top)) / 2 - top + offset[1]
    draw.text((x, y), str(digit), font=font, fill=ink)
    return image


def write_pgm(path, image, ascii_format=False):
    a = np.asarray(image.convert("L"))
    h, w = a.shape
    with open(path, "wb") as f:
        if ascii_format:
            f.write(f"P2\n# digit test image\n{w} {h}\n255\n".encode())
            for row in a:
                f.write((" ".join(str(v) for v in row) + "\n").encode())
        else:
            f.write(f"P5\n{w} {h}\n255\n".encode() + a.tobytes())


def main():
    rng = random.Random(20240611)
    nprng = np.random.default_rng(20240611)
    rows = []
    for digit in range(10):
        folder = os.path.join(OUT, str(digit))
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            os.remove(os.path.join(folder, name))

        def save(kind, image_or_writer, ext):
            name = f"{kind}_{digit}.{ext}"
            path = os.path.join(folder, name)
            if callable(image_or_writer):
                image_or_writer(path)
            elif ext == "jpg":
                image_or_writer.save(path, quality=85)
            else:
                image_or_writer.save(path, optimize=True)
            rows.append((f"{digit}/{name}", digit))

        # font: bold sans, dark on white, centred, square canvas.
        save("font", text_image(digit, (96, 96), "DejaVuSans-Bold.ttf", 64, 20, 245), "png")

        # inverse: serif, light on dark, off-centre on a wide canvas, JPEG.
        dx, dy = rng.randint(-50, 50), rng.randint(-12, 12)
        save("inverse", text_image(digit, (180, 110), "DejaVuSerif-Bold.ttf", 66, 230, 25, (dx, dy)).convert("RGB"), "jpg")

        # drawn: pen strokes, black ink on transparent; varying size and thickness.
        side = rng.choice([64, 100, 140])
        width = max(3, side // rng.choice([9, 11]))
        box = (side * 0.18, side * 0.12, side * 0.64, side * 0.76)
        save("drawn", draw_strokes(digit, (side, side), box, width, (10, 10, 10, 255), rng), "png")

        # photo: font on uneven gray paper, gradient light, blur and noise, PGM (P5).
        w, h = 120, 100
        base = text_image(digit, (w, h), "DejaVuSans.ttf", 70, 60, 200, (rng.randint(-20, 20), rng.randint(-6, 6)))
        base = base.filter(ImageFilter.GaussianBlur(1.2))
        a = np.asarray(base, dtype=np.float64)
        gradient = np.linspace(-25, 25, w)[None, :] + np.linspace(-15, 15, h)[:, None]
        a = np.clip(a + gradient + nprng.normal(0, 12, a.shape), 0, 255).astype(np.uint8)
        save("photo", lambda path: write_pgm(path, Image.fromarray(a)), "pgm")

        # odd: one of several unusual shapes and formats.
        variant = digit % 4
        if variant == 0:
            # tiny ASCII PGM, drawn strokes, white on black
            image = draw_strokes(digit, (22, 26), (3, 3, 16, 20), 3, 255, rng, mode="L", background=0)
            save("odd", lambda path: write_pgm(path, image, ascii_format=True), "pgm")
        elif variant == 1:
            # blue ink on a very wide yellowish canvas, far from the centre (RGB PNG)
            image = text_image(digit, (260, 90), "DejaVuSans.ttf", 60, (30, 60, 170), (250, 240, 200), (-80, 5), mode="RGB")
            save("odd", image, "png")
        elif variant == 2:
            # condensed font on a tall canvas, JPEG in gray
            save("odd", text_image(digit, (70, 160), "DejaVuSansCondensed-Bold.ttf", 90, 35, 225, (0, 20)), "jpg")
        else:
            # white ink strokes on transparency (must be shown on black to be seen)
            image = draw_strokes(digit, (90, 90), (16, 10, 58, 70), 9, (255, 255, 255, 255), rng)
            save("odd", image, "png")

    with open(os.path.join(OUT, "labels.csv"), "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["file", "label"])
        writer.writerows(rows)
    total = sum(os.path.getsize(os.path.join(OUT, r[0])) for r in rows)
    print(f"wrote {len(rows)} images ({total / 1024:.0f} KB) and labels.csv to {OUT}")


if __name__ == "__main__":
    main()
