export { FlipAugmentation, flipSamples } from './flip.augmentation.js';
export type { FlipAugmentationOptions, FlipConvention } from './flip.augmentation.js';
export { AffineAugmentation, affineTransformSample } from './affine.augmentation.js';
export type { AffineAugmentationOptions, AffineParams, AffineFill, AffineOutside } from './affine.augmentation.js';
export { PhotometricAugmentation, photometricSample } from './photometric.augmentation.js';
export type { PhotometricAugmentationOptions } from './photometric.augmentation.js';
