export { registerCpuBackend } from './register.js';
export { createCpuBackend, cpuBackend, CPU_BACKEND_NAME, CPU_BACKEND_PRIORITY } from './cpu.backend.js';
