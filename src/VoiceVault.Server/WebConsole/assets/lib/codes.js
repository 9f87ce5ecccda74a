// What each notification code means and what to do about it (the Debugger's explanations).
const CODES = {
  16104: {
    title: 'Recording could not be encrypted',
    what: 'The vault could not encrypt and store this recording (the configured public key is unusable and no other was available, or storage failed). The recording has no media.',
    todo: 'Check Voice settings: encryption must name an existing public key of this account or its parent. Check the vault\'s storage (disk, S3) in its logs.',
  },
  16107: {
    title: 'Configured key unusable; another key was used',
    what: 'The public key named in Voice settings could not be used, so the recording was encrypted to another key of the account (named in its encryption details).',
    todo: 'Decrypt it with the private key of the key named in the recording\'s encryption details. Fix Voice settings so that it names a key you hold.',
  },
  16109: {
    title: 'MP3 asked for an encrypted recording',
    what: 'Encrypted recordings exist only as WAV; a client asked for the .mp3 media.',
    todo: 'Request the WAV (the media URL without extension, or .wav) and decrypt it.',
  },
  20403: {
    title: 'Media stream refused',
    what: 'A signed media stream named a Twilio account other than the one linked to this account, so the vault kept none of its audio.',
    todo: 'Check which Twilio account places the calls, and the Twilio link of this vault account (GET or POST /v1/Accounts/AC…/TwilioLink); re-link if the Twilio account changed.',
  },
};

export function explain(code) {
  return CODES[Number(code)] ?? { title: `Error ${code}`, what: 'See the message.', todo: `Twilio documents the code at https://www.twilio.com/docs/errors/${code}.` };
}
