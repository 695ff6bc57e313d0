// Path arithmetic in Node: node:path itself (see platform/README.md).
export { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
