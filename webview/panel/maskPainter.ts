// The inpainting mask, painted with the mouse, pen or finger over the source image. The canvas
// has the image's own pixel size (the engine needs a mask exactly as large as the image); CSS
// scales it with the image. What is painted is repainted; the rest is kept (diffusers' and
// A1111's convention: white repaints, black keeps).

const PAINT = 'rgba(255, 64, 96, 1)';
const MAX_UNDO = 30;

export class MaskPainter {
  private readonly ctx: CanvasRenderingContext2D;
  private readonly undoStack: ImageData[] = [];
  private drawing = false;
  private last: { x: number; y: number } | undefined;
  /** Brush diameter in pixels of the image. */
  brush = 32;
  erase = false;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    /** Called after every change (a stroke ends, undo, clear, invert, a new size). */
    private readonly changed: () => void,
  ) {
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('This webview cannot draw on a canvas.');
    this.ctx = ctx;
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    canvas.addEventListener('pointerup', () => this.up());
    canvas.addEventListener('pointercancel', () => this.up());
  }

  /** A new image: an empty mask of its size. */
  reset(width: number, height: number): void {
    this.canvas.width = width;
    this.canvas.height = height;
    this.undoStack.length = 0;
    this.changed();
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  undo(): void {
    const prev = this.undoStack.pop();
    if (!prev) return;
    this.ctx.putImageData(prev, 0, 0);
    this.changed();
  }

  clear(): void {
    if (this.isEmpty()) return;
    this.snapshot();
    this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.changed();
  }

  /** Painted becomes kept and kept becomes painted. */
  invert(): void {
    this.snapshot();
    const img = this.ctx.getImageData(0, 0, this.canvas.width, this.canvas.height);
    const d = img.data;
    for (let i = 0; i < d.length; i += 4) {
      const on = d[i + 3] < 128;
      d[i] = 255;
      d[i + 1] = 64;
      d[i + 2] = 96;
      d[i + 3] = on ? 255 : 0;
    }
    this.ctx.putImageData(img, 0, 0);
    this.changed();
  }

  /** True when nothing is painted (the whole image is redrawn, img2img). */
  isEmpty(): boolean {
    const { width, height } = this.canvas;
    if (width === 0 || height === 0) return true;
    const d = this.ctx.getImageData(0, 0, width, height).data;
    for (let i = 3; i < d.length; i += 4) if (d[i] >= 128) return false;
    return true;
  }

  /** The mask as the engine reads it: a PNG, white where painted, black elsewhere (base64). */
  toPngBase64(): string {
    const { width, height } = this.canvas;
    const out = document.createElement('canvas');
    out.width = width;
    out.height = height;
    const octx = out.getContext('2d');
    if (!octx) throw new Error('This webview cannot draw on a canvas.');
    const src = this.ctx.getImageData(0, 0, width, height).data;
    const img = octx.createImageData(width, height);
    // Binary, as diffusers makes it anyway (mask >= 0.5): the brush's soft edge is decided here.
    for (let i = 0; i < src.length; i += 4) {
      const v = src[i + 3] >= 128 ? 255 : 0;
      img.data[i] = v;
      img.data[i + 1] = v;
      img.data[i + 2] = v;
      img.data[i + 3] = 255;
    }
    octx.putImageData(img, 0, 0);
    return out.toDataURL('image/png').replace(/^data:image\/png;base64,/, '');
  }

  private snapshot(): void {
    this.undoStack.push(this.ctx.getImageData(0, 0, this.canvas.width, this.canvas.height));
    if (this.undoStack.length > MAX_UNDO) this.undoStack.shift();
  }

  /** A pointer position in pixels of the image. */
  private at(e: PointerEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) * this.canvas.width) / r.width, y: ((e.clientY - r.top) * this.canvas.height) / r.height };
  }

  private down(e: PointerEvent): void {
    if (e.button !== 0) return;
    e.preventDefault();
    this.canvas.setPointerCapture(e.pointerId);
    this.snapshot();
    this.drawing = true;
    this.last = this.at(e);
    this.stroke(this.last, this.last);
  }

  private move(e: PointerEvent): void {
    if (!this.drawing || !this.last) return;
    const p = this.at(e);
    this.stroke(this.last, p);
    this.last = p;
  }

  private up(): void {
    if (!this.drawing) return;
    this.drawing = false;
    this.last = undefined;
    this.changed();
  }

  private stroke(from: { x: number; y: number }, to: { x: number; y: number }): void {
    const c = this.ctx;
    c.globalCompositeOperation = this.erase ? 'destination-out' : 'source-over';
    c.strokeStyle = PAINT;
    c.fillStyle = PAINT;
    c.lineWidth = this.brush;
    c.lineCap = 'round';
    c.lineJoin = 'round';
    c.beginPath();
    if (from.x === to.x && from.y === to.y) {
      c.arc(from.x, from.y, this.brush / 2, 0, Math.PI * 2);
      c.fill();
    } else {
      c.moveTo(from.x, from.y);
      c.lineTo(to.x, to.y);
      c.stroke();
    }
    c.globalCompositeOperation = 'source-over';
  }
}
