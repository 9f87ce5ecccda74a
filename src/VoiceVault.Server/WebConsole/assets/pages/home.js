import { navigate } from '../lib/router.js';

export async function render() {
  navigate('/console/recordings', { replace: true });
  return 'Recordings';
}
