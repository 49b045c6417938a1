export interface SessionState {
  /** The till's terminal token (remembered on this device), and the signed-in staff member's session token. */
  terminal: string;
  token: string;
  staff: { id: string; name: string; role: string; staffCode: string; location: { id: string; code: string; name: string; latitude: number | null; longitude: number | null } };
}

/** The staff session survives a reload on this device; signing out forgets it. */
export const Session = {
  load(): SessionState | null {
    try {
      return JSON.parse(localStorage.getItem('uc.session') ?? 'null') as SessionState | null;
    } catch {
      return null;
    }
  },
  save: (s: SessionState) => localStorage.setItem('uc.session', JSON.stringify(s)),
  clear: () => localStorage.removeItem('uc.session'),
};
