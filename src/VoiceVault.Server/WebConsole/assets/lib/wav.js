// The decrypted file is a RIFF/WAVE; the page reads its format to draw each channel.

/** {channels, sampleRate, bitsPerSample, dataOffset, dataLength} or null when it is not PCM WAV. */
export function parseWav(buffer) {
  const view = new DataView(buffer);
  if (buffer.byteLength < 12 || view.getUint32(0, false) !== 0x52494646 || view.getUint32(8, false) !== 0x57415645) return null;
  let format = null;
  for (let at = 12; at + 8 <= buffer.byteLength;) {
    const id = view.getUint32(at, false);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 0x666d7420 && size >= 16 && body + 16 <= buffer.byteLength) {
      format = { audioFormat: view.getUint16(body, true), channels: view.getUint16(body + 2, true), sampleRate: view.getUint32(body + 4, true),
        bitsPerSample: view.getUint16(body + 14, true) };
    } else if (id === 0x64617461 && format) {
      return { ...format, dataOffset: body, dataLength: Math.min(size, buffer.byteLength - body) };
    }
    at = body + size + (size & 1);
  }
  return null;
}

/** Per channel, the min and max of each of `columns` slices (16-bit or 8-bit PCM; μ-law as its code values). */
export function peaks(buffer, wav, columns) {
  const view = new DataView(buffer, wav.dataOffset, wav.dataLength);
  const bytes = wav.bitsPerSample / 8;
  const frameBytes = bytes * wav.channels;
  const frames = Math.floor(wav.dataLength / frameBytes);
  const result = [];
  for (let channel = 0; channel < wav.channels; channel++) {
    const min = new Float32Array(columns);
    const max = new Float32Array(columns);
    for (let column = 0; column < columns; column++) {
      const from = Math.floor((column * frames) / columns);
      const to = Math.max(from + 1, Math.floor(((column + 1) * frames) / columns));
      let low = 1;
      let high = -1;
      // At most 256 samples a column: the drawing does not need every sample of an hour.
      const step = Math.max(1, Math.floor((to - from) / 256));
      for (let frame = from; frame < to && frame < frames; frame += step) {
        const at = frame * frameBytes + channel * bytes;
        const sample = bytes === 2 ? view.getInt16(at, true) / 32768 : (view.getUint8(at) - 128) / 128;
        if (sample < low) low = sample;
        if (sample > high) high = sample;
      }
      min[column] = low > high ? 0 : low;
      max[column] = low > high ? 0 : high;
    }
    result.push({ min, max });
  }
  return result;
}

/** Draws one channel's peaks on a canvas. */
export function draw(canvas, { min, max }) {
  const context = canvas.getContext('2d');
  const { width, height } = canvas;
  context.clearRect(0, 0, width, height);
  context.fillStyle = getComputedStyle(canvas).color || '#1a5fb4';
  for (let x = 0; x < width && x < min.length; x++) {
    const top = ((1 - max[x]) / 2) * height;
    const bottom = ((1 - min[x]) / 2) * height;
    context.fillRect(x, top, 1, Math.max(1, bottom - top));
  }
}
