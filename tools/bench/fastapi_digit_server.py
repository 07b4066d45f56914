"""The server a Python user would write for the digit model: FastAPI + uvicorn +
Keras `model.predict`, with the usual Pillow/NumPy preprocessing (grayscale,
invert a light background, crop to the ink, fit in 20x20, centre in 28x28). The comparison peer of tools/bench/serve_load.py.

Run: uvicorn --app-dir tools/bench fastapi_digit_server:app --port 8001
     (MODELPORT_MODEL picks the .h5 file; default fixtures/mnist_digit_model.h5)
"""
import io
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras  # noqa: E402
import numpy as np  # noqa: E402
from fastapi import FastAPI, HTTPException, Request  # noqa: E402
from PIL import Image  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
model = keras.models.load_model(os.environ.get("MODELPORT_MODEL", os.path.join(REPO, "fixtures", "mnist_digit_model.h5")), compile=False)
app = FastAPI()


def mnist_style(pixels):
    """Crop to the ink, fit it in 20x20 keeping the aspect ratio, centre it in 28x28 (the usual tutorial recipe)."""
    ys, xs = np.nonzero(pixels > 0.2)
    if len(xs) == 0:
        return np.zeros((28, 28), np.float32)
    crop = pixels[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    scale = 20.0 / max(crop.shape)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    small = np.asarray(Image.fromarray((crop * 255).astype(np.uint8)).resize(size, Image.LANCZOS), np.float32) / 255.0
    out = np.zeros((28, 28), np.float32)
    top, left = (28 - small.shape[0]) // 2, (28 - small.shape[1]) // 2
    out[top:top + small.shape[0], left:left + small.shape[1]] = small
    return out


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.post("/api/predict")
async def predict(request: Request):
    start = time.perf_counter()
    body = await request.body()
    try:
        image = Image.open(io.BytesIO(body)).convert("L")
    except Exception as error:
        raise HTTPException(status_code=400, detail=f"unreadable image: {error}")
    pixels = np.asarray(image, dtype=np.float32) / 255.0
    if pixels.mean() > 0.5:  # MNIST digits are white on black
        pixels = 1.0 - pixels
    pixels = mnist_style(pixels)
    probabilities = model.predict(pixels.reshape(1, 28, 28, 1), verbose=0)[0]
    return {"label": int(np.argmax(probabilities)), "probabilities": probabilities.tolist(),
            "elapsed_ms": (time.perf_counter() - start) * 1000}
