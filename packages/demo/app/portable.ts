// Portability check: this page imports nothing but stock @tensorflow/tfjs (no @keypoints code) and loads the
// shipped default model with tf.loadLayersModel.
import * as tf from '@tensorflow/tfjs';

/** What loading one model with stock tfjs gives: its layer classes, output shape and the sum of its prediction on a grey face. */
interface PortableResult {
  backend: string;
  layers: string[];
  outputShape: (number | null)[];
  sum: number;
}

declare global {
  interface Window {
    portable: Promise<PortableResult>;
    /** Load any saved model (e.g. every preset's, written beside the page by the e2e test) with stock tfjs. */
    loadPortable: (modelJsonUrl: string) => Promise<PortableResult>;
  }
}

window.loadPortable = async (modelJsonUrl: string): Promise<PortableResult> => {
  const model = await tf.loadLayersModel(new URL(modelJsonUrl, location.href).href);
  const y = tf.tidy(() => model.predict(tf.fill([1, 96, 96, 1], 0.5)) as tf.Tensor);
  const values = Array.from(await y.data());
  y.dispose();
  const result = {
    backend: tf.getBackend(),
    layers: model.layers.map((l) => l.getClassName()),
    outputShape: model.outputs[0].shape,
    sum: values.reduce((a, b) => a + b, 0),
  };
  model.dispose();
  return result;
};

window.portable = (async () => {
  await tf.setBackend('cpu');
  const result = await window.loadPortable('./default-model/model.json');
  document.getElementById('out')!.textContent = JSON.stringify(result);
  return result;
})();
