// Public API of the ResNet backbone (basic-block depths 18 and 34).
export { BasicBlock, RESNET_BASIC_DEPTHS, ResNet, type ResNetConfig } from './resnet';
