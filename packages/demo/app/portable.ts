// Portability check: this page imports nothing but stock @tensorflow/tfjs (no @keypoints code) and loads the
// shipped default model with tf.loadLayersModel.
import * as tf from '@tensorflow/tfjs';

declare global {
  interface Window {
    portable: Promise<{ backend: string; layers: string[]; outputShape: (number | null)[]; sum: number }>;
  }
}

window.portable = (async () => {
  await tf.setBackend('cpu');
  const model = await tf.loadLayersModel(new URL('./default-model/model.json', location.href).href);
  const y = tf.tidy(() => model.predict(tf.fill([1, 96, 96, 1], 0.5)) as tf.Tensor);
  const values = Array.from(await y.data());
  y.dispose();
  const result = {
    backend: tf.getBackend(),
    layers: model.layers.map((l) => l.getClassName()),
    outputShape: model.outputs[0].shape,
    sum: values.reduce((a, b) => a + b, 0),
  };
  document.getElementById('out')!.textContent = JSON.stringify(result);
  return result;
})();
