// tsyringe needs a Reflect polyfill to load; importing DI primitives through this module
// guarantees it is installed first. No container registrations happen here.
import 'reflect-metadata';

export { container, inject, injectAll, injectable, instanceCachingFactory, Lifecycle } from 'tsyringe';
export type { DependencyContainer, InjectionToken } from 'tsyringe';
