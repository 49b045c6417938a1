import { locationType } from '../../schema/index';
import { loadAll } from '../lib/loader';
import { z } from 'zod';
import { builder } from '../graphql/builder';
import { asPayload, gid, parseInput, payloadRef, userErrorsField, text } from '../graphql/payload';
import { createLocation, listLocations, updateLocation, type Location, type LocationChanges } from './service';

export const LocationTypeEnum = builder.enumType('LocationType', { values: locationType.enumValues });

export const LocationRef = builder.node(builder.objectRef<Location>('Location'), {
  id: { resolve: (l) => l.id },
  loadManyWithoutCache: (ids, ctx) => loadAll(ctx.loaders.location, ids),
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'pickupHoldDays' in v,
  fields: (t) => ({
    code: t.exposeString('code'),
    name: t.exposeString('name'),
    type: t.field({ type: LocationTypeEnum, resolve: (l) => l.type }),
    timezone: t.exposeString('timezone'),
    city: t.exposeString('city', { nullable: true }),
    latitude: t.exposeFloat('latitude', { nullable: true }),
    longitude: t.exposeFloat('longitude', { nullable: true }),
    pickupEnabled: t.exposeBoolean('pickupEnabled'),
    shipsToCustomers: t.exposeBoolean('shipsToCustomers'),
    acceptsReturns: t.exposeBoolean('acceptsReturns'),
    pickupHoldDays: t.exposeInt('pickupHoldDays'),
    maxCartHoldMinutes: t.exposeInt('maxCartHoldMinutes'),
    taxRegion: t.exposeString('taxRegion', { nullable: true, description: 'Picks tax rates (taxRates); none: no tax.' }),
  }),
});

builder.queryField('locations', (t) =>
  t.field({ type: [LocationRef], resolve: (_r, _a, ctx) => listLocations(ctx.db) }),
);

const CreateLocationInput = builder.inputType('CreateLocationInput', {
  fields: (t) => ({
    code: t.string({ required: true }),
    name: t.string({ required: true }),
    type: t.field({ type: LocationTypeEnum, required: true }),
    timezone: t.string({ required: true }),
    city: t.string(),
    latitude: t.float(),
    longitude: t.float(),
    pickupEnabled: t.boolean({ defaultValue: false }),
    shipsToCustomers: t.boolean({ defaultValue: false }),
    acceptsReturns: t.boolean({ defaultValue: true }),
    pickupHoldDays: t.int({ description: 'Days an uncollected pickup is held (default 7).' }),
    maxCartHoldMinutes: t.int({ description: 'The longest a cart may hold stock here, reserve to try included (default 1440: 24 h).' }),
    taxRegion: t.string({ description: 'The tax region whose rates apply to sales here (setTaxRate).' }),
  }),
});

const validTimezone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

export const taxRegionSchema = z.string().trim().regex(/^[A-Z0-9-]{2,32}$/, 'A tax region is 2-32 upper-case letters, digits or dashes, e.g. US-NY-NYC.');

const CreateLocationSchema = z
  .object({
    code: z.string().trim().regex(/^[A-Z0-9-]{2,16}$/, 'Use 2-16 upper-case letters, digits or dashes.'),
    name: text(200),
    type: z.enum(locationType.enumValues),
    timezone: z.string().refine(validTimezone, 'Not an IANA time zone.'),
    city: text(100).nullish(),
    latitude: z.number().min(-90).max(90).nullish(),
    longitude: z.number().min(-180).max(180).nullish(),
    pickupEnabled: z.boolean().nullish(),
    shipsToCustomers: z.boolean().nullish(),
    acceptsReturns: z.boolean().nullish(),
    pickupHoldDays: z.number().int().min(1).max(90).nullish(),
    maxCartHoldMinutes: z.number().int().min(1).max(10_080).nullish(),
    taxRegion: taxRegionSchema.nullish(),
  })
  .refine((v) => (v.latitude == null) === (v.longitude == null), {
    message: 'Give both latitude and longitude, or neither.',
    path: ['longitude'],
  });

const LocationPayload = payloadRef<{ location: Location }>('LocationPayload').implement({
  fields: (t) => ({
    location: t.field({ type: LocationRef, nullable: true, resolve: (p) => p.location }),
    userErrors: userErrorsField(t),
  }),
});

builder.mutationField('createLocation', (t) =>
  t.field({
    type: LocationPayload,
    args: { input: t.arg({ type: CreateLocationInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const v = parseInput(CreateLocationSchema, input);
        const location = await createLocation(ctx.db, ctx.viewer, {
          code: v.code,
          name: v.name,
          type: v.type,
          timezone: v.timezone,
          city: v.city ?? null,
          latitude: v.latitude ?? null,
          longitude: v.longitude ?? null,
          pickupEnabled: v.pickupEnabled ?? false,
          shipsToCustomers: v.shipsToCustomers ?? false,
          acceptsReturns: v.acceptsReturns ?? v.type !== 'CONTACT_CENTRE',
          pickupHoldDays: v.pickupHoldDays ?? 7,
          maxCartHoldMinutes: v.maxCartHoldMinutes ?? 1440,
          taxRegion: v.taxRegion ?? null,
        });
        return { location };
      }),
  }),
);

const UpdateLocationInput = builder.inputType('UpdateLocationInput', {
  fields: (t) => ({
    locationId: t.id({ required: true }),
    name: t.string(),
    pickupEnabled: t.boolean(),
    shipsToCustomers: t.boolean(),
    acceptsReturns: t.boolean(),
    pickupHoldDays: t.int(),
    maxCartHoldMinutes: t.int(),
    taxRegion: t.string(),
  }),
});

builder.mutationField('updateLocation', (t) =>
  t.field({
    type: LocationPayload,
    description: "Head office: a location's name and flags; pickups already waiting keep their hold.",
    args: { input: t.arg({ type: UpdateLocationInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const v = parseInput(
          z.object({
            locationId: gid('Location'),
            name: text(200).nullish(),
            pickupEnabled: z.boolean().nullish(),
            shipsToCustomers: z.boolean().nullish(),
            acceptsReturns: z.boolean().nullish(),
            pickupHoldDays: z.number().int().min(1).max(90).nullish(),
            maxCartHoldMinutes: z.number().int().min(1).max(10_080).nullish(),
            taxRegion: taxRegionSchema.nullish(),
          }),
          input,
        );
        const { locationId, ...changes } = v;
        return { location: await updateLocation(ctx.db, ctx.viewer, locationId, changes as LocationChanges) };
      }),
  }),
);
