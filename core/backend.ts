// Backend selection lives in ops/backend.ts. This re-export keeps the old import path working for
// scripts outside the repository that still import it (the issue-19 field case seg_test_pad_stripped
// under the project's shared field_cases); code in the repository imports ops/backend.
export * from '../ops/backend';
