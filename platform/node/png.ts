// PNG codec in Node: pngjs (see platform/README.md).
export { PNG } from 'pngjs';
