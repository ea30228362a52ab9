// The built-in SD 1.5 workflow in ComfyUI's API format ({ node id: { class_type, inputs } }, an
// input that comes from another node written [node id, output index]), with core nodes only so
// every ComfyUI runs it: txt2img from an empty latent, img2img from an uploaded image, and
// inpainting with a mask that limits where the noise goes.

export const SAVE_NODE = '9';

export interface WorkflowInput {
  checkpoint: string;
  prompt: string;
  negativePrompt: string;
  seed: number;
  steps: number;
  cfg: number;
  sampler: string;
  scheduler: string;
  width: number;
  height: number;
  /** Uploaded image names (as /upload/image answered). */
  init?: string;
  mask?: string;
  /** 1 for txt2img; the strength for img2img. */
  denoise: number;
}

type Node = { class_type: string; inputs: Record<string, unknown> };

export function comfyWorkflow(w: WorkflowInput): Record<string, Node> {
  // CheckpointLoaderSimple's outputs: 0 MODEL, 1 CLIP, 2 VAE.
  const nodes: Record<string, Node> = {
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: w.checkpoint } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: w.prompt, clip: ['4', 1] } },
    '7': { class_type: 'CLIPTextEncode', inputs: { text: w.negativePrompt, clip: ['4', 1] } },
  };
  let latent: [string, number];
  if (w.init === undefined) {
    nodes['5'] = { class_type: 'EmptyLatentImage', inputs: { width: w.width, height: w.height, batch_size: 1 } };
    latent = ['5', 0];
  } else {
    nodes['10'] = { class_type: 'LoadImage', inputs: { image: w.init } };
    nodes['11'] = { class_type: 'VAEEncode', inputs: { pixels: ['10', 0], vae: ['4', 2] } };
    latent = ['11', 0];
    if (w.mask !== undefined) {
      // White (repaint) reads as 1 in the red channel; SetLatentNoiseMask denoises only there.
      nodes['12'] = { class_type: 'LoadImageMask', inputs: { image: w.mask, channel: 'red' } };
      nodes['13'] = { class_type: 'SetLatentNoiseMask', inputs: { samples: ['11', 0], mask: ['12', 0] } };
      latent = ['13', 0];
    }
  }
  nodes['3'] = {
    class_type: 'KSampler',
    inputs: {
      seed: w.seed, steps: w.steps, cfg: w.cfg, sampler_name: w.sampler, scheduler: w.scheduler, denoise: w.denoise,
      model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: latent,
    },
  };
  nodes['8'] = { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } };
  nodes[SAVE_NODE] = { class_type: 'SaveImage', inputs: { filename_prefix: 'course-illustrator', images: ['8', 0] } };
  return nodes;
}
