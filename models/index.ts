// Registers the project's model types (imported by the tools): MaskRCNN, EncoderDecoder and ImageClassifier (with the
// FPN neck, the FPN head and the TinyViM backbones). Evaluators are registered by evaluation/evaluators.
import './mask_rcnn_builder';
import './seg_builder';
import './image_classifier';
import './classify_image';
