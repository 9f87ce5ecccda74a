import { add, h, field, message, replace, when, announce, dialog } from '../lib/dom.js';
import { get, accountPath, ApiError } from '../lib/api.js';
import { importPrivateKey, KeyFileError } from '../lib/privatekey.js';
import { readDetails, unwrap, open, fetchMedia, DecryptError, MAX_BYTES } from '../lib/recording.js';
import { parseWav, peaks, draw } from '../lib/wav.js';
import * as keystore from '../lib/keystore.js';

export async function render(main, { params: [sid], query, session }) {
  const account = query.get('account') ?? session.account_sid;
  let recording;
  try {
    recording = await get(`${accountPath(account)}/Recordings/${sid}.json`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      add(main, h('h1', {}, 'Recording not found'), h('p', {}, `No recording ${sid} in account ${account} that you may see.`),
        h('p', {}, h('a', { href: '/console/recordings' }, 'All recordings')));
      return 'Recording not found';
    }
    throw error;
  }
  const mediaUrl = `${accountPath(recording.account_sid)}/Recordings/${recording.sid}`;
  const details = recording.encryption_details;
  add(main, 
    h('p', { class: 'crumbs' }, h('a', { href: `/console/recordings?account=${recording.account_sid}` }, 'Recordings')),
    h('h1', {}, 'Recording ', h('code', {}, recording.sid)),
    h('dl', { class: 'facts' },
      fact('Status', recording.status + (recording.error_code ? ` (error ${recording.error_code})` : '')),
      fact('Call', recording.call_sid),
      fact('Account', recording.account_sid),
      fact('Created', when(recording.date_created)),
      fact('Duration', recording.duration === null || recording.duration === undefined ? '—' : `${recording.duration} s`),
      fact('Channels', String(recording.channels)),
      fact('Source', recording.source),
      fact('Encryption', details ? `rsa-aes to ${details.encryption_public_key_sid}` : 'none (stored under the vault\'s own key)')));
  if (details) {
    add(main, h('h2', {}, 'Encryption details'), h('pre', { class: 'details', tabindex: '0', 'aria-label': 'Encryption details (JSON)' }, JSON.stringify(details, null, 2)));
  }
  if (recording.status !== 'completed') {
    add(main, message('notice', `This recording is ${recording.status}; it has no media to ${details ? 'decrypt' : 'play'}.`));
    return `Recording ${recording.sid}`;
  }
  add(main, h('p', {}, h('a', { href: mediaUrl, download: `${recording.sid}${details ? '.enc' : '.wav'}` }, details ? 'Download ciphertext' : 'Download WAV (as stored)')));
  const player = h('section', { class: 'player', 'aria-labelledby': 'player-heading' });
  if (details) {
    add(main, await decryptPanel(recording, mediaUrl, player));
  } else {
    add(main, h('h2', { id: 'player-heading' }, 'Listen'));
    player.append(h('audio', { controls: true, preload: 'none', src: mediaUrl }));
  }
  add(main, player);
  return `Recording ${recording.sid}`;
}

const fact = (term, value) => [h('dt', {}, term), h('dd', {}, value)];

async function decryptPanel(recording, mediaUrl, player) {
  const detailsBytes = readDetails(recording.encryption_details);
  const keySid = detailsBytes.publicKeySid;
  const status = h('div', { class: 'status' });
  const progress = h('progress', { max: '1', value: '0', hidden: true, 'aria-label': 'Download progress' });
  const keyFile = field('Private key', h('input', { type: 'file', name: 'private-key', accept: '.pem,.key,.der,.p8,application/x-pem-file' }),
    'PKCS#8 or PKCS#1, PEM or DER, or encrypted PKCS#8 with its passphrase. The key is read by this page only: it is never uploaded.');
  const passphrase = field('Passphrase', h('input', { type: 'password', name: 'passphrase', autocomplete: 'off' }), 'Only for an encrypted key.');
  const rememberBox = h('input', { type: 'checkbox', name: 'remember', id: 'remember-key' });
  const rememberRow = h('div', { class: 'field check' }, rememberBox,
    h('label', { for: 'remember-key' }, `Remember this key in this browser for ${keySid ?? 'its public key'} (kept non-extractable; "Forget" removes it)`));
  const button = h('button', { type: 'submit' }, 'Decrypt');
  const form = h('form', { class: 'card' }, keyFile.row, passphrase.row, rememberRow, button, progress, status);
  const remembered = keySid ? await keystore.recall(keySid).catch(() => undefined) : undefined;
  const quick = h('div', { class: 'remembered' });

  // The download of the ciphertext starts as soon as a key file is chosen, while the passphrase
  // is typed (it is ciphertext: harmless to hold); Decrypt takes it over, or starts its own.
  let prefetch = null;
  const startDownload = () => {
    const controller = new AbortController();
    const promise = fetchMedia(mediaUrl, { signal: controller.signal, onProgress: (done, total) => { progress.value = done / total; } });
    promise.catch(() => {});
    return { controller, promise };
  };
  keyFile.input.addEventListener('change', () => {
    prefetch?.controller.abort();
    prefetch = keyFile.input.files?.length ? startDownload() : null;
  });

  async function run(getKey, rememberAs) {
    replace(status);
    replace(player);
    button.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    const started = performance.now();
    // Stage marks, read by bench/console.sh (performance.getEntriesByType('mark')).
    performance.clearMarks();
    performance.mark('decrypt pressed');
    // The download runs beside reading the key; a key that fails stops it.
    const { controller: download, promise: media } = prefetch ?? startDownload();
    prefetch = null;
    try {
      let key;
      let cek;
      try {
        key = await getKey();
        performance.mark('key read');
        cek = await unwrap(key, detailsBytes);
        performance.mark('CEK unwrapped');
      } catch (error) {
        download.abort();
        throw error;
      }
      const ciphertext = await media;
      performance.mark('media fetched');
      const plaintext = await open(cek, detailsBytes, ciphertext);
      performance.mark('decrypted and verified');
      if (rememberAs) {
        await keystore.remember(keySid, key, rememberAs);
        showRemembered({ sid: keySid, label: rememberAs });
      }
      play(plaintext, recording, player);
      performance.mark('player and waveforms ready');
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      replace(status, message('notice', `Decrypted and verified (GCM tag checked) in ${seconds} s.`));
      announce('The recording is ready to play.');
    } catch (error) {
      replace(player);
      const known = error instanceof KeyFileError || error instanceof DecryptError;
      replace(status, message('error', known ? error.message : `Decryption failed: ${error.message}`));
    } finally {
      button.disabled = false;
      progress.hidden = true;
    }
  }

  form.addEventListener('submit', event => {
    event.preventDefault();
    const file = keyFile.input.files?.[0];
    if (!file) {
      replace(status, message('error', 'Choose your private key file first.'));
      keyFile.input.focus();
      return;
    }
    run(async () => {
      const bytes = new Uint8Array(await file.arrayBuffer());
      try {
        return await importPrivateKey(bytes, passphrase.input.value);
      } finally {
        bytes.fill(0);
        passphrase.input.value = '';
      }
    }, rememberBox.checked && keySid ? file.name : null);
  });

  function showRemembered(entry) {
    replace(quick,
      h('p', {}, `A key for ${entry.sid} is remembered in this browser (${entry.label}).`),
      h('button', { type: 'button', onclick: () => run(async () => (await keystore.recall(entry.sid))?.key ?? Promise.reject(new KeyFileError('The remembered key was forgotten.')), null) },
        'Decrypt with remembered key'),
      ' ',
      h('button', { type: 'button', class: 'secondary', onclick: async () => {
        const answer = await dialog('Forget this key?', h('p', {}, `This browser will no longer hold the private key for ${entry.sid}. You will need the key file to decrypt again.`),
          [{ label: 'Forget', value: 'forget', kind: 'danger' }, { label: 'Cancel', value: 'cancel', kind: 'secondary' }]);
        if (answer === 'forget') {
          await keystore.forget(entry.sid);
          replace(quick);
          announce('Key forgotten.');
        }
      } }, 'Forget'));
  }
  if (remembered) showRemembered(remembered);

  return h('section', { 'aria-labelledby': 'decrypt-heading' },
    h('h2', { id: 'decrypt-heading' }, 'Decrypt & play'),
    h('p', { class: 'hint' }, `Decryption runs in this browser (WebCrypto RSA-OAEP-SHA256 and AES-256-GCM). Up to ${MAX_BYTES / 2 ** 30} GiB: the whole file is opened in one call.`),
    quick, form);
}

function play(plaintext, recording, player) {
  const blob = new Blob([plaintext], { type: 'audio/wav' });
  const url = URL.createObjectURL(blob);
  const wav = parseWav(plaintext);
  const seconds = wav ? wav.dataLength / (wav.channels * wav.sampleRate * (wav.bitsPerSample / 8)) : null;
  const waves = h('div', { class: 'waves' });
  const audio = h('audio', { controls: true, preload: 'auto', 'aria-label': `Decrypted recording ${recording.sid}` });
  audio.addEventListener('canplay', () => performance.mark('playable'), { once: true });
  audio.src = url;
  // The player first, so the browser loads it while the waveforms are drawn.
  replace(player,
    h('h2', { id: 'player-heading' }, 'Listen'),
    audio,
    wav ? h('p', {}, `${wav.channels} channel${wav.channels > 1 ? 's' : ''}, ${wav.sampleRate} Hz, ${wav.bitsPerSample}-bit, ${seconds.toFixed(1)} s`) : null,
    waves,
    h('p', {}, h('a', { href: url, download: `${recording.sid}.wav`, class: 'button' }, 'Download WAV')));
  if (wav) {
    const width = 800;
    peaks(plaintext, wav, width).forEach((line, index) => {
      const canvas = h('canvas', { width: String(width), height: '80', class: 'wave', role: 'img',
        'aria-label': `Waveform of channel ${index + 1} of ${wav.channels}` });
      draw(canvas, line);
      waves.append(h('figure', {}, canvas, h('figcaption', {}, `Channel ${index + 1}`)));
    });
  }
  // The object URL stays valid while this page shows; leaving the page drops it.
  window.addEventListener('popstate', () => URL.revokeObjectURL(url), { once: true });
}
