// Remembered keys: non-extractable CryptoKeys in this browser's IndexedDB, by the CR SID of the
// public key they belong to. The browser keeps them in the profile; script (this page's or any
// other) can use them to unwrap but can never read them out (exportKey fails).
const DB = 'voicevault-console';
const STORE = 'private-keys';

function database() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'sid' });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run(mode, work) {
  const db = await database();
  try {
    return await new Promise((resolve, reject) => {
      const transaction = db.transaction(STORE, mode);
      const request = work(transaction.objectStore(STORE));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  } finally {
    db.close();
  }
}

export async function remember(sid, key, label) {
  if (key.extractable) throw new Error('Only a non-extractable key may be remembered.');
  await run('readwrite', store => store.put({ sid, key, label, added: new Date().toISOString() }));
}

/** {sid, key, label, added} or undefined. */
export const recall = sid => run('readonly', store => store.get(sid));

export const forget = sid => run('readwrite', store => store.delete(sid));
