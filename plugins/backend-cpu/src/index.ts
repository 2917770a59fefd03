export { createCpuBackend, cpuBackend, CPU_BACKEND_NAME, CPU_BACKEND_PRIORITY } from './cpu.backend.js';
