import { defineGradientSuite } from './testing/gradient-suite.js';

// Threads are per process in tfjs; vitest runs each test file in its own process.
defineGradientSuite(1);
