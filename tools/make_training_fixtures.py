#!/usr/bin/env python3
"""Reference numbers for ModelPort's trainer, computed by real TensorFlow/Keras 3.

Every expected value in Tests/ModelPortTrainingTests comes from here; nothing
is typed in by hand. Outputs, in fixtures/training/ (small: a few models and
batches of a handful of MNIST images):

  <model>.h5             a Keras 3 model saved with its *initial* weights
                         (Keras's own glorot_uniform draws, seeded)
  <model>.gradients.h5   x, y (a batch of MNIST training images), `loss` (the
                         batch-mean loss Keras computes on model(x,
                         training=True)), and `gradients/<layer>/<variable>`
                         from tf.GradientTape; for BatchNormalization also
                         `moving/<layer>/<variable>` after Keras's update
                         (momentum 0.99) from that training-mode call.
      models: mnist_digit_model (the tutorial CNN), mnist_mlp (the tutorial
      MLP) and mixed (a small functional graph: Conv2D branches, Add,
      BatchNormalization, AveragePooling2D, MaxPooling2D, Concatenate,
      Reshape, Dense); layers_cnn (every other image layer: Rescaling,
      adapted Normalization, ZeroPadding2D, DepthwiseConv2D, PReLU with
      shared axes, SeparableConv2D, Conv2DTranspose, Cropping2D,
      UpSampling2D, LayerNormalization, ReLU with max_value/negative_slope/
      threshold, Global{Average,Max}Pooling2D (keepdims), Concatenate,
      RepeatVector, Permute, Dense on a 3-D input, Softmax(axis=1), a nested
      Sequential with LeakyReLU and ELU) and layers_activations (a Dense
      stack through every other Keras activation), and layers_operations
      (keras.ops arithmetic, indexing and stack between two Conv2D layers).
  optimizers.h5          for a tiny CNN (tiny_cnn.h5): two batches; for each
                         optimizer configuration (attribute `config`, JSON)
                         the loss before each step and the weights after step
                         1 and step 2 (`<opt>/step1/<layer>/<var>`), each
                         step computing gradients with GradientTape and
                         applying them with optimizer.apply_gradients.
  losses.h5              per loss: inputs, targets, the batch-mean loss and
                         its gradient with respect to the input, from
                         keras.losses.* under GradientTape.
  schedules.h5           learning-rate schedule values at steps 0..11.
  continue.h5            Keras continuing to train fixtures/mnist_digit_model.h5
                         (saved with its Adam state at iteration 4690): one
                         train_on_batch on 16 images; the loss and every
                         weight afterwards (`after/<layer>/<variable>`).

  continue_keras.keras   a tiny CNN compiled with Adam(learning_rate=0.002,
                         amsgrad=True), trained 2 steps and saved by Keras 3 as
                         .keras (optimizer state in model.weights.h5's
                         optimizer/vars/<i>);
  continue_keras.h5      Keras reloading that archive (load_model, compiled)
                         and running one train_on_batch on 16 images: x, y, the
                         loss, iterations before, every weight afterwards.

Usage (from the repo root):  .venv/bin/python tools/make_training_fixtures.py [--data DIR] [--only-layers | --only-continue-keras | --only-operations]
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402

OUT = os.path.join(mf.REPO, "fixtures", "training")


def var_key(v):
    """'sequential/conv2d/kernel' -> 'conv2d/kernel' (layer/variable)."""
    parts = v.path.split("/")
    return "/".join(parts[-2:])


def write_h5(path, fill):
    import h5py
    tmp = path + ".tmp"
    with h5py.File(tmp, "w") as f:
        fill(f)
    os.replace(tmp, path)


def save_model(model, path):
    tmp = path[:-3] + ".tmp.h5"
    model.save(tmp, include_optimizer=False)
    os.replace(tmp, path)


def mixed_model(keras):
    L = keras.layers
    inp = keras.Input(shape=(8, 8, 2), name="input")
    a = L.Conv2D(4, 3, padding="same", activation="relu", name="conv_a")(inp)
    b = L.Conv2D(4, 1, activation="tanh", name="conv_b")(inp)
    s = L.Add(name="add")([a, b])
    n = L.BatchNormalization(name="bn")(s)
    p = L.AveragePooling2D(2, name="avg")(n)
    q = L.MaxPooling2D(2, name="max")(s)
    c = L.Concatenate(name="concat")([p, q])
    r = L.Reshape((4 * 4 * 8,), name="reshape")(c)
    out = L.Dense(10, activation="softmax", name="dense")(r)
    return keras.Model(inp, out, name="mixed")


def layers_cnn(keras, adapt_data):
    L = keras.layers
    inp = keras.Input(shape=(8, 8, 2), name="input")
    x = L.Rescaling(0.5, offset=0.1, name="rescale")(inp)
    norm = L.Normalization(name="norm")
    norm.adapt(adapt_data * 0.5 + 0.1)
    x = norm(x)
    x = L.ZeroPadding2D(((1, 0), (0, 1)), name="pad")(x)                                    # 9x9x2
    x = L.DepthwiseConv2D(3, depth_multiplier=2, activation="elu", name="depthwise")(x)     # 7x7x4
    x = L.PReLU(shared_axes=[1, 2], alpha_initializer=keras.initializers.Constant(0.2), name="prelu")(x)
    x = L.SeparableConv2D(4, 3, strides=2, padding="same", activation="swish", name="separable")(x)  # 4x4x4
    x = L.Conv2DTranspose(3, 3, strides=2, padding="same", activation="gelu", name="transpose")(x)    # 8x8x3
    x = L.Cropping2D(((1, 1), (2, 0)), name="crop")(x)                                      # 6x6x3
    x = L.UpSampling2D((1, 2), name="up")(x)                                                 # 6x12x3
    x = L.LayerNormalization(name="ln")(x)
    x = L.ReLU(max_value=1.0, negative_slope=0.1, threshold=0.2, name="relu")(x)
    a = L.GlobalAveragePooling2D(name="gap")(x)                                              # 3
    b = L.GlobalMaxPooling2D(keepdims=True, name="gmp")(x)                                   # 1x1x3
    b = L.Reshape((3,), name="gmp_flat")(b)
    x = L.Concatenate(name="concat")([a, b])                                                 # 6
    x = L.RepeatVector(4, name="repeat")(x)                                                  # 4x6
    x = L.Permute((2, 1), name="permute")(x)                                                 # 6x4
    x = L.Dense(5, activation="selu", name="dense3d")(x)                                     # 6x5
    x = L.Softmax(axis=1, name="softmax_axis1")(x)
    x = L.Flatten(name="flatten")(x)                                                         # 30
    nested = keras.Sequential([keras.Input(shape=(30,)), L.Dense(8, activation="softplus", name="inner_dense"),
                               L.LeakyReLU(negative_slope=0.2, name="leaky"), L.ELU(alpha=0.7, name="elu")],
                              name="nested")
    x = nested(x)
    out = L.Dense(10, activation="softmax", name="out")(x)
    return keras.Model(inp, out, name="layers_cnn")


def layers_activations(keras):
    L = keras.layers
    names = ["relu6", "hard_sigmoid", "hard_silu", "softsign", "exponential", "sigmoid", "log_softmax",
             "gelu", "silu", "tanh", "selu", "elu", "softplus", "relu", "linear"]
    layers = [keras.Input(shape=(12,))]
    layers += [L.Dense(8, activation=a, name=f"dense_{a}") for a in names]
    layers += [L.Dense(4, name="logits"), L.Activation("softmax", name="softmax")]
    return keras.Sequential(layers, name="layers_activations")


def layers_operations(keras):
    """Operations between trainable layers, so gradients flow back through
    them: x / 4 - 1, 2 - x, a per-channel multiply, square, sqrt, maximum,
    log, x[:, ::-1, 1::2, :], stack of x[..., k], and z * y + y of two tensors."""
    import numpy as np
    L, o = keras.layers, keras.ops
    inp = keras.Input(shape=(6, 6, 3), name="input")
    x = L.Conv2D(3, 1, name="conv")(inp)
    x = x / 4.0 - 1.0
    x = 2.0 - x
    x = x * np.array([0.5, 1.0, 1.5], dtype="float32")
    x = o.sqrt(o.square(x) + 0.5)
    x = o.log(o.maximum(x, 0.8))
    y = x[:, ::-1, 1::2, :]                                                                  # 6x3x3
    y = o.stack([y[..., 2], y[..., 1], y[..., 0]], axis=-1)
    z = L.Conv2D(3, 1, name="conv_b")(y)
    y = z * y + y
    x = L.Flatten(name="flatten")(y)
    out = L.Dense(4, activation="softmax", name="out")(x)
    return keras.Model(inp, out, name="layers_operations")


def tiny_cnn(keras):
    L = keras.layers
    return keras.Sequential([keras.Input(shape=(28, 28, 1)),
                             L.Conv2D(4, 3, activation="relu", name="conv2d"),
                             L.MaxPooling2D(2, name="max_pooling2d"),
                             L.Flatten(name="flatten"),
                             L.Dense(10, activation="softmax", name="dense")], name="tiny_cnn")


def continue_keras(args, keras, np, images, onehot, meta):
    """Keras 3 continuing its own .keras archive with the optimizer state restored."""
    keras.utils.set_random_seed(31)
    model = tiny_cnn(keras)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.002, amsgrad=True),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(images[0:32], onehot[0:32], batch_size=16, epochs=1, shuffle=False, verbose=0)
    path = os.path.join(args.out, "continue_keras.keras")
    model.save(path + ".tmp.keras")
    os.replace(path + ".tmp.keras", path)
    saved = keras.models.load_model(path)
    assert type(saved.optimizer).__name__ == "Adam" and saved.optimizer.amsgrad
    iterations = int(saved.optimizer.iterations.numpy())
    assert iterations == 2, iterations
    loss = saved.train_on_batch(images[48:64], onehot[48:64])
    loss = loss[0] if isinstance(loss, (list, tuple)) else loss

    def fill(f):
        for k, v in meta.items():
            f.attrs[k] = v
        f.attrs["iterations_before"] = iterations
        f["x"], f["y"], f["loss"] = images[48:64], onehot[48:64], np.float32(loss)
        for v in saved.trainable_variables:
            f["after/" + var_key(v)] = v.numpy()
    write_h5(os.path.join(args.out, "continue_keras.h5"), fill)
    print(f"continue_keras: iteration {iterations} -> {int(saved.optimizer.iterations.numpy())}, loss {float(loss):.6f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.environ.get("MNIST_DIR", mf.DEFAULT_DATA))
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--only-layers", action="store_true",
                    help="write only the layers_cnn and layers_activations gradient fixtures")
    ap.add_argument("--only-continue-keras", action="store_true",
                    help="write only the continue_keras fixtures")
    ap.add_argument("--only-operations", action="store_true",
                    help="write only the layers_operations gradient fixture")
    args = ap.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import tensorflow as tf
    import keras
    os.makedirs(args.out, exist_ok=True)

    x_train, y_train, _, _ = mf.load_mnist(args.data)
    images = (x_train[:64].astype(np.float32) / 255.0)[..., None]
    labels = y_train[:64].astype(np.int64)
    onehot = np.eye(10, dtype=np.float32)[labels]
    meta = {"generator": "tools/make_training_fixtures.py", "keras_version": keras.__version__,
            "tensorflow_version": tf.__version__}

    if args.only_continue_keras:
        return continue_keras(args, keras, np, images, onehot, meta)

    # --- Gradients of whole models -------------------------------------------------
    def gradients_fixture(name, model, x, y, loss_fn):
        save_model(model, os.path.join(args.out, name + ".h5"))
        with tf.GradientTape() as tape:
            pred = model(x, training=True)
            loss = loss_fn(y, pred)
        grads = tape.gradient(loss, model.trainable_variables)

        def fill(f):
            for k, v in meta.items():
                f.attrs[k] = v
            f.attrs["loss_name"] = loss_fn.name
            f["x"], f["y"], f["loss"] = x, y, np.float32(loss.numpy())
            f["outputs"] = pred.numpy()
            for v, g in zip(model.trainable_variables, grads):
                f["gradients/" + var_key(v)] = g.numpy()
            for v in model.non_trainable_variables:
                f["moving/" + var_key(v)] = v.numpy()
        write_h5(os.path.join(args.out, name + ".gradients.h5"), fill)
        print(f"{name}: loss {float(loss):.6f}, {len(grads)} gradients", flush=True)

    def operations_fixture():
        # Its own seed and generator, so the other fixtures' random streams stay as they were.
        keras.utils.set_random_seed(16)
        ops_rng = np.random.default_rng(16)
        gradients_fixture("layers_operations", layers_operations(keras), ops_rng.normal(size=(4, 6, 6, 3)).astype(np.float32),
                          np.eye(4, dtype=np.float32)[ops_rng.integers(0, 4, 4)], keras.losses.CategoricalCrossentropy())

    if args.only_operations:
        return operations_fixture()

    keras.utils.set_random_seed(14)
    rng = np.random.default_rng(14)
    xl = rng.normal(size=(4, 8, 8, 2)).astype(np.float32)
    gradients_fixture("layers_cnn", layers_cnn(keras, rng.normal(size=(32, 8, 8, 2)).astype(np.float32)), xl,
                      np.eye(10, dtype=np.float32)[rng.integers(0, 10, 4)], keras.losses.CategoricalCrossentropy())
    keras.utils.set_random_seed(15)
    xa = rng.normal(size=(6, 12)).astype(np.float32)
    gradients_fixture("layers_activations", layers_activations(keras), xa, rng.integers(0, 4, 6).astype(np.int64),
                      keras.losses.SparseCategoricalCrossentropy())
    operations_fixture()
    if args.only_layers:
        return

    keras.utils.set_random_seed(11)
    gradients_fixture("mnist_digit_model", mf.build_model(keras, "mnist_digit_model", legacy=False),
                      images[:8], onehot[:8], keras.losses.CategoricalCrossentropy())
    keras.utils.set_random_seed(12)
    gradients_fixture("mnist_mlp", mf.build_model(keras, "mnist_mlp", legacy=False),
                      images[:8, :, :, 0], labels[:8], keras.losses.SparseCategoricalCrossentropy())
    keras.utils.set_random_seed(13)
    rng = np.random.default_rng(13)
    xm = rng.normal(size=(6, 8, 8, 2)).astype(np.float32)
    gradients_fixture("mixed", mixed_model(keras), xm, np.eye(10, dtype=np.float32)[rng.integers(0, 10, 6)],
                      keras.losses.CategoricalCrossentropy())

    # --- One and two optimizer steps -------------------------------------------------
    S = keras.optimizers.schedules
    optimizers = {
        "adam": (lambda: keras.optimizers.Adam(), {"class": "Adam"}),
        "adam_amsgrad": (lambda: keras.optimizers.Adam(amsgrad=True), {"class": "Adam", "amsgrad": True}),
        "adam_clipnorm": (lambda: keras.optimizers.Adam(clipnorm=0.01), {"class": "Adam", "clipnorm": 0.01}),
        "adam_global_clipnorm": (lambda: keras.optimizers.Adam(global_clipnorm=0.01),
                                 {"class": "Adam", "global_clipnorm": 0.01}),
        "adamw": (lambda: keras.optimizers.AdamW(learning_rate=0.01), {"class": "AdamW", "learning_rate": 0.01}),
        "sgd": (lambda: keras.optimizers.SGD(learning_rate=0.1), {"class": "SGD", "learning_rate": 0.1}),
        "sgd_momentum": (lambda: keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
                         {"class": "SGD", "learning_rate": 0.05, "momentum": 0.9}),
        "sgd_nesterov": (lambda: keras.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
                         {"class": "SGD", "learning_rate": 0.05, "momentum": 0.9, "nesterov": True}),
        "rmsprop": (lambda: keras.optimizers.RMSprop(), {"class": "RMSprop"}),
        "rmsprop_centered_momentum": (lambda: keras.optimizers.RMSprop(momentum=0.5, centered=True),
                                      {"class": "RMSprop", "momentum": 0.5, "centered": True}),
        "adam_exponential_decay": (
            lambda: keras.optimizers.Adam(learning_rate=S.ExponentialDecay(0.01, decay_steps=1, decay_rate=0.5)),
            {"class": "Adam", "schedule": "exponential", "initial": 0.01, "decay_steps": 1, "decay_rate": 0.5}),
        "sgd_cosine_decay": (
            lambda: keras.optimizers.SGD(learning_rate=S.CosineDecay(0.1, decay_steps=3, alpha=0.1)),
            {"class": "SGD", "schedule": "cosine", "initial": 0.1, "decay_steps": 3, "alpha": 0.1}),
    }
    keras.utils.set_random_seed(21)
    base = tiny_cnn(keras)
    save_model(base, os.path.join(args.out, "tiny_cnn.h5"))
    initial = [v.numpy() for v in base.weights]
    batches = [(images[0:16], onehot[0:16]), (images[16:32], onehot[16:32])]
    loss_fn = keras.losses.CategoricalCrossentropy()

    def fill_optimizers(f):
        for k, v in meta.items():
            f.attrs[k] = v
        for i, (x, y) in enumerate(batches):
            f[f"batch{i + 1}/x"], f[f"batch{i + 1}/y"] = x, y
        for name, (make, config) in optimizers.items():
            for v, w in zip(base.weights, initial):
                v.assign(w)
            opt = make()
            g = f.create_group(name)
            g.attrs["config"] = json.dumps(config)
            losses = []
            for step, (x, y) in enumerate(batches, start=1):
                with tf.GradientTape() as tape:
                    loss = loss_fn(y, base(x, training=True))
                grads = tape.gradient(loss, base.trainable_variables)
                opt.apply_gradients(zip(grads, base.trainable_variables))
                losses.append(float(loss))
                for v in base.trainable_variables:
                    g[f"step{step}/" + var_key(v)] = v.numpy()
            g["losses"] = np.array(losses, dtype=np.float32)
            print(f"optimizer {name}: losses {losses}", flush=True)
    write_h5(os.path.join(args.out, "optimizers.h5"), fill_optimizers)

    # --- Losses on their own ----------------------------------------------------------
    rng = np.random.default_rng(5)
    logits = (rng.normal(size=(6, 5)) * np.array([[1], [1], [4], [20], [20], [1]])).astype(np.float32)
    probs = tf.nn.softmax(logits).numpy()  # a plain array: Keras cannot see logits behind it
    labels5 = rng.integers(0, 5, size=6).astype(np.int64)
    labels5[3] = np.argmin(logits[3])  # a confident wrong answer: clipping matters
    onehot5 = np.eye(5, dtype=np.float32)[labels5]
    binary = rng.integers(0, 2, size=(6, 5)).astype(np.float32)
    sig = tf.sigmoid(logits).numpy()
    soft_targets = tf.nn.softmax(rng.normal(size=(6, 5))).numpy().astype(np.float32)
    L = keras.losses
    cases = {
        "categorical_probabilities": (L.CategoricalCrossentropy(), probs, onehot5),
        "categorical_soft_targets": (L.CategoricalCrossentropy(), probs * 1.3, soft_targets),
        "categorical_logits": (L.CategoricalCrossentropy(from_logits=True), logits, onehot5),
        "sparse_probabilities": (L.SparseCategoricalCrossentropy(), probs, labels5),
        "sparse_logits": (L.SparseCategoricalCrossentropy(from_logits=True), logits, labels5),
        "binary_probabilities": (L.BinaryCrossentropy(), sig, binary),
        "binary_logits": (L.BinaryCrossentropy(from_logits=True), logits, binary),
        "mean_squared_error": (L.MeanSquaredError(), probs, onehot5),
    }

    def fill_losses(f):
        for k, v in meta.items():
            f.attrs[k] = v
        for name, (fn, inp, target) in cases.items():
            t = tf.constant(inp)
            with tf.GradientTape() as tape:
                tape.watch(t)
                loss = fn(target, t)
            g = f.create_group(name)
            g["input"], g["target"] = inp, (target.astype(np.float32) if target.dtype != np.float32 else target)
            g["loss"] = np.float32(loss.numpy())
            g["gradient"] = tape.gradient(loss, t).numpy()
    write_h5(os.path.join(args.out, "losses.h5"), fill_losses)

    # --- Learning-rate schedules ------------------------------------------------------
    schedules = {
        "exponential": S.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.5),
        "exponential_staircase": S.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.5, staircase=True),
        "cosine": S.CosineDecay(0.1, decay_steps=5, alpha=0.1),
        "cosine_warmup": S.CosineDecay(0.0, decay_steps=5, warmup_target=0.1, warmup_steps=3),
    }

    def fill_schedules(f):
        for k, v in meta.items():
            f.attrs[k] = v
        for name, s in schedules.items():
            f[name] = np.array([float(s(step)) for step in range(12)], dtype=np.float32)
            f[name].attrs["config"] = json.dumps(s.get_config())
    write_h5(os.path.join(args.out, "schedules.h5"), fill_schedules)

    # --- Continuing a Keras-saved model with its optimizer state -----------------------
    # Keras 3.15's own legacy-.h5 loader builds the optimizer on variables the
    # model later replaces (train_on_batch then fails with "Unknown variable"),
    # so do what it means to do: the saved weights, a fresh Adam built on the
    # model's variables, and the saved optimizer variables set in order.
    import h5py
    source = os.path.join(mf.REPO, "fixtures", "mnist_digit_model.h5")
    saved = keras.models.load_model(source, compile=False)
    saved.compile(optimizer=keras.optimizers.Adam(), loss="categorical_crossentropy", metrics=["accuracy"])
    saved.optimizer.build(saved.trainable_variables)
    with h5py.File(source, "r") as f:
        group = f["optimizer_weights"]
        names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
        saved.optimizer.set_weights([group[n][()] for n in names])
    iterations = int(saved.optimizer.iterations.numpy())
    loss = saved.train_on_batch(images[32:48], onehot[32:48])
    loss = loss[0] if isinstance(loss, (list, tuple)) else loss

    def fill_continue(f):
        for k, v in meta.items():
            f.attrs[k] = v
        f.attrs["iterations_before"] = iterations
        f["x"], f["y"], f["loss"] = images[32:48], onehot[32:48], np.float32(loss)
        for v in saved.trainable_variables:
            f["after/" + var_key(v)] = v.numpy()
    write_h5(os.path.join(args.out, "continue.h5"), fill_continue)
    print(f"continue: iteration {iterations} -> {int(saved.optimizer.iterations.numpy())}, loss {float(loss):.6f}")


if __name__ == "__main__":
    main()
