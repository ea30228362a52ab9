# Reference outputs from Hugging Face diffusers for the project's tiny ONNX pipelines, following
# StableDiffusionPipeline.__call__ step for step (the tokenizer, diffusers' schedulers built with
# from_config, CFG, the CPU torch generator, VAE post-processing), with onnxruntime sessions as
# the models. Writes JSON with the final latents and the 8-bit pixels of every case; compare with
# `npx tsx test/fidelity/compareWithDiffusers.ts REFERENCE.json`.
#
#   pip install diffusers torch transformers onnxruntime scipy
#   npx tsx test/fidelity/tinyFixtures.ts            # prints the two fixture folders
#   python3 test/fidelity/diffusers_reference.py TINY_A_DIR TINY_B_DIR reference.json
#
# Not part of npm test: CI has no Python packages and no PyPI.
import base64, hashlib, inspect, json, sys, time
import numpy as np, torch, onnxruntime as ort, diffusers, transformers
from transformers import CLIPTokenizer
from diffusers import (PNDMScheduler, DDIMScheduler, EulerDiscreteScheduler, EulerAncestralDiscreteScheduler,
                       LMSDiscreteScheduler, DPMSolverMultistepScheduler, LCMScheduler)

fixtures = {'tiny-a': sys.argv[1], 'tiny-b': sys.argv[2]}
out_file = sys.argv[3]

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

class Model:
    def __init__(self, d):
        self.tok = CLIPTokenizer.from_pretrained(d + '/tokenizer')
        so = ort.SessionOptions(); so.intra_op_num_threads = 1
        self.te = ort.InferenceSession(d + '/text_encoder/model.onnx', so, providers=['CPUExecutionProvider'])
        self.unet = ort.InferenceSession(d + '/unet/model.onnx', so, providers=['CPUExecutionProvider'])
        self.vae = ort.InferenceSession(d + '/vae_decoder/model.onnx', so, providers=['CPUExecutionProvider'])
        self.cfg = json.load(open(d + '/scheduler/scheduler_config.json'))
        vcfg = json.load(open(d + '/vae_decoder/config.json'))
        self.vae_factor = 2 ** (len(vcfg['block_out_channels']) - 1)
        self.scaling = vcfg.get('scaling_factor', 0.18215)

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

def run(m, case):
    g = torch.Generator('cpu').manual_seed(case['seed'])
    sch = make_scheduler(case['scheduler'], m.cfg)
    cfg_on = case['guidance'] > 1
    emb = m.encode(case['prompt'])
    if cfg_on:
        emb = torch.cat([m.encode(case['negative']), emb])
    shape = (1, 4, case['height'] // m.vae_factor, case['width'] // m.vae_factor)
    latents = torch.randn(shape, generator=g, dtype=torch.float32)
    sch.set_timesteps(case['steps'], device='cpu')
    latents = latents * sch.init_noise_sigma
    params = set(inspect.signature(sch.step).parameters)
    extra = {}
    if 'eta' in params: extra['eta'] = 0.0
    if 'generator' in params: extra['generator'] = g
    for t in sch.timesteps:
        lmi = torch.cat([latents] * 2) if cfg_on else latents
        lmi = sch.scale_model_input(lmi, t)
        noise = m.unet_call(lmi, t, emb)
        if cfg_on:
            u, c = noise.chunk(2)
            noise = u + case['guidance'] * (c - u)
        latents = sch.step(noise, t, latents, **extra, return_dict=False)[0]
    final = latents.contiguous().numpy().astype(np.float32)
    vin = m.vae.get_inputs()[0].name
    image = torch.from_numpy(m.vae.run(None, {vin: (latents / m.scaling).numpy()})[0])
    image = (image * 0.5 + 0.5).clamp(0, 1)
    arr = image.cpu().permute(0, 2, 3, 1).float().numpy()
    px = (arr * 255).round().astype('uint8')[0]
    return {**case, 'timesteps': [float(x) for x in sch.timesteps], 'latentsShape': list(final.shape),
            'latents': base64.b64encode(final.tobytes()).decode(), 'pixelsShape': list(px.shape),
            'pixels': base64.b64encode(px.tobytes()).decode(), 'pixelsSha256': hashlib.sha256(px.tobytes()).hexdigest()}

cases = []
base = {'seed': 1234, 'steps': 8, 'guidance': 7.5, 'prompt': 'a labelled diagram of a plant cell', 'negative': 'blurry, lowres'}
for fx, (w, h) in [('tiny-a', (64, 48)), ('tiny-b', (64, 64))]:
    for s in ['pndm', 'ddim', 'euler', 'euler-a', 'lms', 'dpmpp-2m', 'dpmpp-2m-karras', 'lcm']:
        cases.append({**base, 'fixture': fx, 'scheduler': s, 'width': w, 'height': h})
cases.append({**base, 'fixture': 'tiny-a', 'scheduler': 'euler-a', 'width': 64, 'height': 64, 'guidance': 1.0, 'seed': 7})
cases.append({**base, 'fixture': 'tiny-b', 'scheduler': 'ddim', 'width': 64, 'height': 64, 'guidance': 5.0, 'negative': '', 'steps': 12})

models = {k: Model(v) for k, v in fixtures.items()}
results = []
for c in cases:
    t0 = time.time()
    try:
        r = run(models[c['fixture']], c)
        results.append(r)
        print(c['fixture'], c['scheduler'], 'ok', f'{time.time() - t0:.2f}s', r['pixelsSha256'][:12], flush=True)
    except Exception as e:
        print(c['fixture'], c['scheduler'], 'FAILED', repr(e), flush=True)
json.dump({'versions': {'diffusers': diffusers.__version__, 'torch': torch.__version__, 'transformers': transformers.__version__,
                        'onnxruntime': ort.__version__, 'numpy': np.__version__},
           'fixtures': {k: v.rstrip('/').split('/')[-1] for k, v in fixtures.items()}, 'cases': results}, open(out_file, 'w'))
print('wrote', len(results), 'cases')
