// File URLs in Node: node:url itself (see platform/README.md).
export { fileURLToPath, pathToFileURL } from 'node:url';
