// libvips through sharp in Node (see platform/README.md): decoding for readers that mimic PIL.
export { default } from 'sharp';
