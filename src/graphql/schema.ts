import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder';
import './scalars';
// Each domain registers its types and fields on the builder.
import '../locations/graphql';
import '../catalog/graphql';
import '../access/graphql';
import '../customers/graphql';
import '../loyalty/graphql';
import '../inventory/graphql';
import '../orders/graphql';
import '../pickup/graphql';
import '../carts/graphql';
import '../promotions/graphql';
import '../returns/graphql';
import '../registers/graphql';
import '../giftcards/graphql';
import '../taxes/graphql';
import '../events/graphql';
import '../audit/graphql';

export const schema = builder.toSchema();
export const printedSchema = () => printSchema(lexicographicSortSchema(schema));
