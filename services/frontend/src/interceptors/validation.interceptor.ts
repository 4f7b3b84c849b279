/** Last before the handler: the request's shape and the method's own rules (src/validation/). */
import type { RequestValidator } from '../validation/request-validator';
import type { Interceptor } from './chain';

export function validationInterceptor(validator: RequestValidator): Interceptor {
  return {
    name: 'validation',
    async intercept(call, next) {
      const validated = validator.validate(call.service, call.method, call.request, call.namespace, call.namespaceName);
      if (validated.taskToken) call.taskToken = validated.taskToken;
      return next();
    },
  };
}
