export { buildFullyConnected, MODEL_INPUT_SHAPE } from './fc.builder.js';
export type { FullyConnectedConfig } from './fc.builder.js';
export { modelName } from './model-name.js';
export type { ModelNameConfig } from './model-name.js';
export { saveModel, loadModel, MODEL_JSON, WEIGHTS_BIN } from './model-io.js';
export type { SaveModelOptions, SavedModelInfo, LoadModelOptions } from './model-io.js';
export { buildCnn, copyWeightsExceptOutput, cnnModelName, NOURI_DROPOUT, CNN_WEIGHT_LAYERS } from './cnn.builder.js';
export type { CnnConfig, CnnDropout, CnnRunNaming } from './cnn.builder.js';
