// Registers the project's model types (imported by the tools): MaskRCNN, EncoderDecoder (with the
// FPN neck, the FPN head and the TinyViM backbones), mmseg's mIoU evaluation on seg datasets
// and COCO bbox/segm evaluation on CocoDataset.
import './mask_rcnn_builder';
import './det_evaluation';
import './seg_builder';
import './seg_evaluation';
