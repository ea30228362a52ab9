# Reference outputs from Hugging Face diffusers for the project's tiny ONNX pipelines, following
# diffusers 0.30's StableDiffusionPipeline, StableDiffusionImg2ImgPipeline and
# StableDiffusionInpaintPipeline step for step (the tokenizer, diffusers' schedulers built with
# from_config, CFG, the CPU torch generator, VAE pre- and post-processing), with onnxruntime
# sessions as the models. img2img and inpainting call the pipelines' own methods where they can
# (get_timesteps, prepare_latents, _encode_vae_image, prepare_mask_latents, VaeImageProcessor,
# retrieve_latents) on a stand-in object that holds the scheduler and an ONNX VAE encoder.
#
# The VAE encoder as exported samples inside its graph with an unseeded RandomNormalLike; here
# the graph also outputs the two tensors that sample is made of (mean and std, found from the
# draw: eps -> Mul(std, eps) -> Add(mean, ...)), and the latents are drawn from them with the
# generator exactly as DiagonalGaussianDistribution.sample draws them.
#
# Writes JSON with the final latents and the 8-bit pixels of every case, plus the init images
# and masks it made (PNG, base64); compare with
# `npx tsx test/fidelity/compareWithDiffusers.ts REFERENCE.json`.
#
#   pip install "diffusers==0.30.*" torch transformers onnxruntime onnx scipy pillow
#   npx tsx test/fidelity/tinyFixtures.ts            # prints the three fixture folders
#   python3 test/fidelity/diffusers_reference.py TINY_A_DIR TINY_B_DIR TINY_INPAINT_DIR reference.json
#
# Not part of npm test: CI has no Python packages and no PyPI.
import base64, functools, hashlib, inspect, io, json, sys, time, types
import numpy as np, torch, onnxruntime as ort, diffusers, transformers, onnx, PIL
from PIL import Image
from transformers import CLIPTokenizer
from diffusers import (PNDMScheduler, DDIMScheduler, EulerDiscreteScheduler, EulerAncestralDiscreteScheduler,
                       LMSDiscreteScheduler, DPMSolverMultistepScheduler, LCMScheduler,
                       StableDiffusionImg2ImgPipeline, StableDiffusionInpaintPipeline)
from diffusers.image_processor import VaeImageProcessor
from diffusers.utils import load_image
from diffusers.utils.torch_utils import randn_tensor

fixtures = {'tiny-a': sys.argv[1], 'tiny-b': sys.argv[2], 'tiny-inpaint': sys.argv[3]}
out_file = sys.argv[4]

def make_scheduler(name, cfg):
    if name == 'pndm': return PNDMScheduler.from_config(cfg)
    if name == 'ddim': return DDIMScheduler.from_config(cfg)
    if name == 'euler': return EulerDiscreteScheduler.from_config(cfg)
    if name == 'euler-a': return EulerAncestralDiscreteScheduler.from_config(cfg)
    if name == 'lms': return LMSDiscreteScheduler.from_config(cfg)
    if name == 'dpmpp-2m': return DPMSolverMultistepScheduler.from_config(cfg, use_karras_sigmas=False)
    if name == 'dpmpp-2m-karras': return DPMSolverMultistepScheduler.from_config(cfg, use_karras_sigmas=True)
    if name == 'lcm': return LCMScheduler.from_config(cfg)
    raise ValueError(name)

class GraphLatentDist:
    """The encoder graph's own mean and std; sample() is DiagonalGaussianDistribution.sample."""
    def __init__(self, mean, std):
        self.mean, self.std = mean, std
    def sample(self, generator=None):
        sample = randn_tensor(self.mean.shape, generator=generator, device=self.mean.device, dtype=self.mean.dtype)
        x = self.mean + self.std * sample
        return x

def encoder_session(path, so):
    """The encoder, with the tensors its in-graph sample is made of (mean, std) added as outputs."""
    m = onnx.load(path)
    g = m.graph
    draws = [n for n in g.node if n.op_type in ('RandomNormalLike', 'RandomNormal')]
    if not draws:  # an export that outputs the distribution's parameters
        return ort.InferenceSession(path, so, providers=['CPUExecutionProvider']), None
    eps = draws[0].output[0]
    # diffusers 0.30's export casts the draw before the Mul
    while (cast := next((n for n in g.node if n.op_type in ('Cast', 'Identity') and eps in n.input), None)) is not None:
        eps = cast.output[0]
    mul = next(n for n in g.node if n.op_type == 'Mul' and eps in n.input)
    std = next(i for i in mul.input if i != eps)
    add = next(n for n in g.node if n.op_type == 'Add' and mul.output[0] in n.input)
    mean = next(i for i in add.input if i != mul.output[0])
    for name in (mean, std):
        g.output.append(onnx.helper.make_empty_tensor_value_info(name))
    return ort.InferenceSession(m.SerializeToString(), so, providers=['CPUExecutionProvider']), (mean, std)

class Model:
    def __init__(self, d):
        self.tok = CLIPTokenizer.from_pretrained(d + '/tokenizer')
        so = ort.SessionOptions(); so.intra_op_num_threads = 1
        self.te = ort.InferenceSession(d + '/text_encoder/model.onnx', so, providers=['CPUExecutionProvider'])
        self.unet = ort.InferenceSession(d + '/unet/model.onnx', so, providers=['CPUExecutionProvider'])
        self.vae = ort.InferenceSession(d + '/vae_decoder/model.onnx', so, providers=['CPUExecutionProvider'])
        self.enc, self.enc_dist = encoder_session(d + '/vae_encoder/model.onnx', so)
        self.cfg = json.load(open(d + '/scheduler/scheduler_config.json'))
        vcfg = json.load(open(d + '/vae_decoder/config.json'))
        self.unet_in_channels = json.load(open(d + '/unet/config.json')).get('in_channels', 4)
        self.vae_factor = 2 ** (len(vcfg['block_out_channels']) - 1)
        self.scaling = vcfg.get('scaling_factor', 0.18215)
        # What the pipelines' methods read from `self.vae`.
        self.config = types.SimpleNamespace(scaling_factor=self.scaling, latent_channels=4, force_upcast=False)

    def encode(self, text):
        ids = self.tok(text, padding='max_length', max_length=self.tok.model_max_length, truncation=True, return_tensors='np').input_ids
        inp = self.te.get_inputs()[0]
        ids = ids.astype(np.int32 if inp.type == 'tensor(int32)' else np.int64)
        return torch.from_numpy(self.te.run(None, {inp.name: ids})[0])

    def unet_call(self, sample, t, emb):
        ins = {i.name: i for i in self.unet.get_inputs()}
        ttype = ins['timestep'].type
        tv = t.item() if hasattr(t, 'item') else t
        timestep = np.array([tv], dtype=np.float32) if ttype == 'tensor(float)' else np.array([tv]).astype(np.int64)
        r = self.unet.run(None, {'sample': sample.numpy(), 'timestep': timestep, 'encoder_hidden_states': emb.numpy()})
        return torch.from_numpy(r[0])

    # AutoencoderKL.encode's stand-in: an object whose latent_dist the pipelines' retrieve_latents samples.
    def encode_image(self, image):
        feeds = {self.enc.get_inputs()[0].name: image.float().numpy()}
        if self.enc_dist:
            mean, std = self.enc.run(list(self.enc_dist), feeds)
            dist = GraphLatentDist(torch.from_numpy(mean), torch.from_numpy(std))
        else:
            from diffusers.models.autoencoders.vae import DiagonalGaussianDistribution
            dist = DiagonalGaussianDistribution(torch.from_numpy(self.enc.run(None, feeds)[0]))
        return types.SimpleNamespace(latent_dist=dist)

class VaeStandIn:
    def __init__(self, m):
        self.m, self.config = m, m.config
    def encode(self, x, return_dict=True):
        return self.m.encode_image(x)

def stand_in(m, sch, cls):
    """What the pipeline methods use of `self`: the scheduler, the VAE, its factor."""
    s = types.SimpleNamespace(scheduler=sch, vae=VaeStandIn(m), vae_scale_factor=m.vae_factor)
    if hasattr(cls, '_encode_vae_image'):
        s._encode_vae_image = functools.partial(cls._encode_vae_image, s)
    return s

def step_kwargs(sch, g):
    params = set(inspect.signature(sch.step).parameters)
    extra = {}
    if 'eta' in params: extra['eta'] = 0.0
    if 'generator' in params: extra['generator'] = g
    return extra

def embeddings(m, case):
    emb = m.encode(case['prompt'])
    if case['guidance'] > 1:
        emb = torch.cat([m.encode(case['negative']), emb])
    return emb

def guided(m, lmi, t, emb, case):
    noise = m.unet_call(lmi, t, emb)
    if case['guidance'] > 1:
        u, c = noise.chunk(2)
        noise = u + case['guidance'] * (c - u)
    return noise

def finish(m, case, latents, timesteps):
    final = latents.contiguous().numpy().astype(np.float32)
    vin = m.vae.get_inputs()[0].name
    image = torch.from_numpy(m.vae.run(None, {vin: (latents / m.scaling).numpy()})[0])
    image = (image * 0.5 + 0.5).clamp(0, 1)
    arr = image.cpu().permute(0, 2, 3, 1).float().numpy()
    px = (arr * 255).round().astype('uint8')[0]
    return {**case, 'timesteps': [float(x) for x in timesteps], 'latentsShape': list(final.shape),
            'latents': base64.b64encode(final.tobytes()).decode(), 'pixelsShape': list(px.shape),
            'pixels': base64.b64encode(px.tobytes()).decode(), 'pixelsSha256': hashlib.sha256(px.tobytes()).hexdigest()}

def run_txt2img(m, case):
    g = torch.Generator('cpu').manual_seed(case['seed'])
    sch = make_scheduler(case['scheduler'], m.cfg)
    cfg_on = case['guidance'] > 1
    emb = embeddings(m, case)
    shape = (1, 4, case['height'] // m.vae_factor, case['width'] // m.vae_factor)
    latents = torch.randn(shape, generator=g, dtype=torch.float32)
    sch.set_timesteps(case['steps'], device='cpu')
    latents = latents * sch.init_noise_sigma
    extra = step_kwargs(sch, g)
    for t in sch.timesteps:
        lmi = torch.cat([latents] * 2) if cfg_on else latents
        lmi = sch.scale_model_input(lmi, t)
        latents = sch.step(guided(m, lmi, t, emb, case), t, latents, **extra, return_dict=False)[0]
    return finish(m, case, latents, sch.timesteps)

def run_img2img(m, case, images):
    # StableDiffusionImg2ImgPipeline.__call__: preprocess, set_timesteps, get_timesteps, prepare_latents, loop.
    g = torch.Generator('cpu').manual_seed(case['seed'])
    sch = make_scheduler(case['scheduler'], m.cfg)
    cfg_on = case['guidance'] > 1
    emb = embeddings(m, case)
    image = VaeImageProcessor(vae_scale_factor=m.vae_factor).preprocess(images[case['initImage']], height=case.get('height'), width=case.get('width'))
    sch.set_timesteps(case['steps'], device='cpu')
    s = stand_in(m, sch, StableDiffusionImg2ImgPipeline)
    timesteps, _ = StableDiffusionImg2ImgPipeline.get_timesteps(s, case['steps'], case['strength'], 'cpu')
    latent_timestep = timesteps[:1].repeat(1)
    latents = StableDiffusionImg2ImgPipeline.prepare_latents(s, image, latent_timestep, 1, 1, torch.float32, torch.device('cpu'), g)
    extra = step_kwargs(sch, g)
    for t in timesteps:
        lmi = torch.cat([latents] * 2) if cfg_on else latents
        lmi = sch.scale_model_input(lmi, t)
        latents = sch.step(guided(m, lmi, t, emb, case), t, latents, **extra, return_dict=False)[0]
    return finish(m, case, latents, timesteps)

def run_inpaint(m, case, images):
    # StableDiffusionInpaintPipeline.__call__ (no padding_mask_crop, no latents or masked_image_latents given).
    g = torch.Generator('cpu').manual_seed(case['seed'])
    sch = make_scheduler(case['scheduler'], m.cfg)
    cfg_on = case['guidance'] > 1
    emb = embeddings(m, case)
    image_pil = images[case['initImage']]
    height = case.get('height') or image_pil.height - image_pil.height % m.vae_factor
    width = case.get('width') or image_pil.width - image_pil.width % m.vae_factor
    sch.set_timesteps(case['steps'], device='cpu')
    s = stand_in(m, sch, StableDiffusionInpaintPipeline)
    timesteps, n = StableDiffusionInpaintPipeline.get_timesteps(s, num_inference_steps=case['steps'], strength=case['strength'], device='cpu')
    assert n >= 1
    latent_timestep = timesteps[:1].repeat(1)
    is_strength_max = case['strength'] == 1.0
    init_image = VaeImageProcessor(vae_scale_factor=m.vae_factor).preprocess(image_pil, height=height, width=width).to(dtype=torch.float32)
    four = m.unet_in_channels == 4
    out = StableDiffusionInpaintPipeline.prepare_latents(
        s, 1, 4, height, width, torch.float32, torch.device('cpu'), g, None, image=init_image, timestep=latent_timestep,
        is_strength_max=is_strength_max, return_noise=True, return_image_latents=four)
    if four: latents, noise, image_latents = out
    else: latents, noise = out
    mask_processor = VaeImageProcessor(vae_scale_factor=m.vae_factor, do_normalize=False, do_binarize=True, do_convert_grayscale=True)
    mask_condition = mask_processor.preprocess(images[case['mask']], height=height, width=width)
    masked_image = init_image * (mask_condition < 0.5)
    mask, masked_image_latents = StableDiffusionInpaintPipeline.prepare_mask_latents(
        s, mask_condition, masked_image, 1, height, width, torch.float32, torch.device('cpu'), g, cfg_on)
    extra = step_kwargs(sch, g)
    for i, t in enumerate(timesteps):
        lmi = torch.cat([latents] * 2) if cfg_on else latents
        lmi = sch.scale_model_input(lmi, t)
        if m.unet_in_channels == 9:
            lmi = torch.cat([lmi, mask, masked_image_latents], dim=1)
        latents = sch.step(guided(m, lmi, t, emb, case), t, latents, **extra, return_dict=False)[0]
        if four:
            init_latents_proper = image_latents
            if cfg_on:
                init_mask, _ = mask.chunk(2)
            else:
                init_mask = mask
            if i < len(timesteps) - 1:
                noise_timestep = timesteps[i + 1]
                init_latents_proper = sch.add_noise(init_latents_proper, noise, torch.tensor([noise_timestep]))
            latents = (1 - init_mask) * init_latents_proper + init_mask * latents
    return finish(m, case, latents, timesteps)

def png(img):
    b = io.BytesIO(); img.save(b, format='PNG'); return b.getvalue()

# The init image (70x50: not a multiple of 8, so the default size resizes it with Lanczos) and a
# mask with a soft edge (grey levels on both sides of 0.5), made here and sent along as PNGs.
yy, xx = np.mgrid[0:50, 0:70]
init_rgb = np.stack([(xx * 3) % 256, (yy * 5 + xx) % 256, (200 - xx * 2) % 256], axis=-1).astype(np.uint8)
mask_l = np.clip((xx - 30) * 16, 0, 255).astype(np.uint8)
inputs = {'init.png': png(Image.fromarray(init_rgb, 'RGB')), 'mask.png': png(Image.fromarray(mask_l, 'L'))}
# diffusers' load_image: exif_transpose, convert("RGB").
images = {name: load_image(Image.open(io.BytesIO(data))) for name, data in inputs.items()}

cases = []
base = {'seed': 1234, 'steps': 8, 'guidance': 7.5, 'prompt': 'a labelled diagram of a plant cell', 'negative': 'blurry, lowres'}
schedulers = ['pndm', 'ddim', 'euler', 'euler-a', 'lms', 'dpmpp-2m', 'dpmpp-2m-karras', 'lcm']
for fx, (w, h) in [('tiny-a', (64, 48)), ('tiny-b', (64, 64))]:
    for s in schedulers:
        cases.append({**base, 'mode': 'txt2img', 'fixture': fx, 'scheduler': s, 'width': w, 'height': h})
cases.append({**base, 'mode': 'txt2img', 'fixture': 'tiny-a', 'scheduler': 'euler-a', 'width': 64, 'height': 64, 'guidance': 1.0, 'seed': 7})
cases.append({**base, 'mode': 'txt2img', 'fixture': 'tiny-b', 'scheduler': 'ddim', 'width': 64, 'height': 64, 'guidance': 5.0, 'negative': '', 'steps': 12})
# img2img: tiny-b at the image's own size (64x48 after rounding down to 8, a Lanczos resize),
# tiny-a (VAE factor 4) at a given size; every scheduler; CFG off; strength 1; another size.
for s in schedulers:
    cases.append({**base, 'mode': 'img2img', 'fixture': 'tiny-b', 'scheduler': s, 'strength': 0.6, 'initImage': 'init.png', 'width': None, 'height': None})
    cases.append({**base, 'mode': 'img2img', 'fixture': 'tiny-a', 'scheduler': s, 'strength': 0.75, 'initImage': 'init.png', 'width': 64, 'height': 48})
cases.append({**base, 'mode': 'img2img', 'fixture': 'tiny-b', 'scheduler': 'euler-a', 'strength': 0.5, 'guidance': 1.0, 'seed': 9, 'initImage': 'init.png', 'width': None, 'height': None})
cases.append({**base, 'mode': 'img2img', 'fixture': 'tiny-b', 'scheduler': 'dpmpp-2m', 'strength': 1.0, 'initImage': 'init.png', 'width': 48, 'height': 32})
# Inpainting: a 9-channel UNet (tiny-inpaint) and the 4-channel blend (tiny-b), strength 1 and below.
for s in schedulers:
    cases.append({**base, 'mode': 'inpaint', 'fixture': 'tiny-inpaint', 'scheduler': s, 'strength': 1.0, 'initImage': 'init.png', 'mask': 'mask.png', 'width': 64, 'height': 48})
    cases.append({**base, 'mode': 'inpaint', 'fixture': 'tiny-b', 'scheduler': s, 'strength': 0.75, 'initImage': 'init.png', 'mask': 'mask.png', 'width': 64, 'height': 48})
cases.append({**base, 'mode': 'inpaint', 'fixture': 'tiny-inpaint', 'scheduler': 'euler', 'strength': 0.6, 'guidance': 1.0, 'initImage': 'init.png', 'mask': 'mask.png', 'width': 64, 'height': 48})
cases.append({**base, 'mode': 'inpaint', 'fixture': 'tiny-b', 'scheduler': 'ddim', 'strength': 1.0, 'initImage': 'init.png', 'mask': 'mask.png', 'width': 64, 'height': 48})

models = {k: Model(v) for k, v in fixtures.items()}
results = []
for c in cases:
    t0 = time.time()
    try:
        m = models[c['fixture']]
        r = run_txt2img(m, c) if c['mode'] == 'txt2img' else run_img2img(m, c, images) if c['mode'] == 'img2img' else run_inpaint(m, c, images)
        results.append(r)
        print(c['mode'], c['fixture'], c['scheduler'], 'ok', f'{time.time() - t0:.2f}s', r['pixelsSha256'][:12], flush=True)
    except Exception as e:
        print(c['mode'], c['fixture'], c['scheduler'], 'FAILED', repr(e), flush=True)
json.dump({'versions': {'diffusers': diffusers.__version__, 'torch': torch.__version__, 'transformers': transformers.__version__,
                        'onnxruntime': ort.__version__, 'numpy': np.__version__, 'pillow': PIL.__version__},
           'fixtures': {k: v.rstrip('/').split('/')[-1] for k, v in fixtures.items()},
           'inputs': {k: base64.b64encode(v).decode() for k, v in inputs.items()},
           'cases': results}, open(out_file, 'w'))
print('wrote', len(results), 'cases')
