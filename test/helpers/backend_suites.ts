// The test suites that run on any backend (TVD_TEST_BACKEND, helpers/test_backend.ts), paths from the
// repository root. tools/webgpu_check runs exactly these; test/test_backend.test.ts checks the list
// against the suites that import helpers/test_backend. A leaf module, so the tool can read the list
// without loading tfjs.
export const BACKEND_PORTABLE_SUITES = [
  'test/tinyvim_ops.test.ts',
  'test/tinyvim_backbone.test.ts',
  'test/tinyvim_cls.test.ts',
  'test/tinyvim_weights.test.ts',
  'test/backend_train_step.test.ts',
] as const;
