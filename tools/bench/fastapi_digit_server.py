"""The server a Python user would write for the digit model: FastAPI + uvicorn +
Keras `model.predict`, with the usual Pillow preprocessing (grayscale, invert a
light background, resize to 28x28). The comparison peer of tools/bench/serve_load.py.

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
    pixels = np.asarray(image.resize((28, 28)), dtype=np.float32) / 255.0
    if pixels.mean() > 0.5:
        pixels = 1.0 - pixels
    probabilities = model.predict(pixels.reshape(1, 28, 28, 1), verbose=0)[0]
    return {"label": int(np.argmax(probabilities)), "probabilities": probabilities.tolist(),
            "elapsed_ms": (time.perf_counter() - start) * 1000}
