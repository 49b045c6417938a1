import { useState } from 'preact/hooks';
import { ApiFailure, type ApiError } from './api';
import { errorText, type T } from './i18n';

/** Runs an async action with a busy flag and the errors it failed with (API errors keep their codes). */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError[] | null>(null);
  return {
    busy,
    error,
    async run(fn: () => Promise<void>) {
      setBusy(true);
      setError(null);
      try {
        await fn();
      } catch (e) {
        setError(e instanceof ApiFailure ? e.errors : [{ code: 'ERROR', message: e instanceof Error ? e.message : String(e) }]);
      } finally {
        setBusy(false);
      }
    },
  };
}

export function ErrorBox({ t, error }: { t: T; error: ApiError[] | null }) {
  if (!error?.length) return null;
  return (
    <div class="error" role="alert">
      {error.map((e) => (
        <p>{errorText(t, e)}</p>
      ))}
    </div>
  );
}

export const value = (e: Event) => (e.target as HTMLInputElement).value;
