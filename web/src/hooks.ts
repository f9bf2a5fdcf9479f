import { useEffect, useState } from 'preact/hooks';
import { api } from './api';

/** Loads `path` (again when it changes or every `refreshMs`); the API's error message when it fails; `loading` until either. */
export function useApi<T>(path: string | null, refreshMs = 0): { data?: T; error?: string; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: string }>({});
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!path) return;
    let live = true;
    api<T>(path).then((data) => live && setState({ data }), (err: Error) => live && setState((s) => ({ ...s, error: err.message })));
    const timer = refreshMs ? setInterval(() => setTick((t) => t + 1), refreshMs) : undefined;
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [path, tick]);
  return { ...state, loading: path !== null && state.data === undefined && state.error === undefined, reload: () => setTick((t) => t + 1) };
}
