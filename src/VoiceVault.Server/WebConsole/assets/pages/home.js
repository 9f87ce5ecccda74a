import { navigate } from '../app.js';

export async function render() {
  navigate('/console/recordings', { replace: true });
  return 'Recordings';
}
