// Registers the project's model types (imported by the tools): MaskRCNN, EncoderDecoder (with the
// FPN neck, the FPN head and the TinyViM backbones) and mmseg's mIoU evaluation on seg datasets.
import './mask_rcnn_builder';
import './seg_builder';
import './seg_evaluation';
