/** ‖b − a‖ / ‖a‖: how far an 8-bit variant's output is from the float32 one. */
export function relativeL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    err += (a[i] - b[i]) ** 2;
    norm += a[i] ** 2;
  }
  return Math.sqrt(err / norm);
}
