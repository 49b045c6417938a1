/** Time is passed in, so expiry and return windows are testable without sleeping. */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();

export const addDays = (d: Date, days: number): Date => new Date(d.getTime() + days * 86_400_000);
