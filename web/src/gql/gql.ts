/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  mutation SignIn($email: String!, $password: String!) {\n    signIn(email: $email, password: $password) {\n      token\n      expiresAt\n      customer { id name }\n    }\n  }\n": typeof types.SignInDocument,
    "\n  mutation SignUp($input: SignUpInput!) {\n    signUp(input: $input) {\n      token\n      expiresAt\n      customer { id name }\n    }\n  }\n": typeof types.SignUpDocument,
    "\n  query Dashboard {\n    me {\n      id\n      name\n      wallet { balance currency }\n      meters {\n        alias\n        meter {\n          number\n          idpel\n          holderName\n          powerVa\n          status\n          monthlyKwhLimit\n          tariff { code }\n          region { name }\n          monthlyUsage { month kwh limitKwh }\n        }\n      }\n      purchases(first: 5) {\n        nodes { id createdAt status meterNumber holderName denomination totalPaid kwh }\n      }\n    }\n  }\n": typeof types.DashboardDocument,
    "\n  query BuyOptions {\n    me {\n      id\n      wallet { balance }\n      meters {\n        alias\n        meter { number holderName powerVa status tariff { code } }\n      }\n    }\n    denominations { amount }\n  }\n": typeof types.BuyOptionsDocument,
    "\n  query Quote($meterNumber: String!, $denomination: Decimal!) {\n    quote(meterNumber: $meterNumber, denomination: $denomination) {\n      meterNumber\n      idpel\n      holderName\n      tariffCode\n      powerVa\n      nominal\n      adminFee\n      stampDuty\n      instalment\n      ppjRate\n      ppj\n      ppnRate\n      ppn\n      energyValue\n      tariffRate\n      kwh\n      totalPaid\n      instalmentDebtLeft\n      monthlyKwhRemaining\n      keyChange { tokensBeforeCredit }\n    }\n  }\n": typeof types.QuoteDocument,
    "\n  fragment PurchaseFields on Purchase {\n    id\n    clientReference\n    channelReference\n    status\n    meterNumber\n    holderName\n    idpel\n    tariffCode\n    powerVa\n    denomination\n    nominal\n    adminFee\n    stampDuty\n    ppn\n    ppj\n    instalment\n    energyValue\n    kwh\n    totalPaid\n    token\n    keyChangeTokens\n    instalmentDebtLeft\n    billerReference\n    failureCode\n    issuedAt\n    createdAt\n  }\n": typeof types.PurchaseFieldsFragmentDoc,
    "\n  mutation PurchaseToken($meterNumber: String!, $denomination: Decimal!, $clientReference: String!) {\n    purchaseToken(meterNumber: $meterNumber, denomination: $denomination, clientReference: $clientReference) {\n      ...PurchaseFields\n    }\n  }\n": typeof types.PurchaseTokenDocument,
    "\n  query PurchaseByReference($clientReference: String!) {\n    purchaseByReference(clientReference: $clientReference) { id status }\n  }\n": typeof types.PurchaseByReferenceDocument,
    "\n  query Purchase($id: ID!) {\n    purchase(id: $id) {\n      ...PurchaseFields\n      meter { region { name } }\n    }\n  }\n": typeof types.PurchaseDocument,
    "\n  mutation Reprint($id: ID!) {\n    reprintToken(id: $id) { ...PurchaseFields }\n  }\n": typeof types.ReprintDocument,
    "\n  query Wallet {\n    wallet { balance currency }\n  }\n": typeof types.WalletDocument,
    "\n  fragment TopUpFields on TopUp {\n    id amount method status bankCode bankName vaNumber qrisPayload expiresAt paidAt\n  }\n": typeof types.TopUpFieldsFragmentDoc,
    "\n  mutation CreateTopUp($amount: Decimal!, $method: TopUpMethod!, $bankCode: String) {\n    createTopUp(amount: $amount, method: $method, bankCode: $bankCode) { ...TopUpFields }\n  }\n": typeof types.CreateTopUpDocument,
    "\n  query TopUp($id: ID!) {\n    topUp(id: $id) { ...TopUpFields }\n    wallet { balance }\n  }\n": typeof types.TopUpDocument,
    "\n  mutation CancelTopUp($id: ID!) {\n    cancelTopUp(id: $id) { ...TopUpFields }\n  }\n": typeof types.CancelTopUpDocument,
    "\n  query History($first: Int!, $after: String, $status: PurchaseStatus, $from: DateTime, $to: DateTime) {\n    me {\n      id\n      meters { alias meter { number } }\n      purchases(first: $first, after: $after, status: $status, from: $from, to: $to) {\n        nodes { id createdAt status meterNumber holderName denomination totalPaid kwh }\n        pageInfo { hasNextPage endCursor }\n      }\n    }\n  }\n": typeof types.HistoryDocument,
    "\n  query MeterHistory($number: String!, $first: Int!, $after: String, $status: PurchaseStatus, $from: DateTime, $to: DateTime) {\n    meter(number: $number) {\n      number\n      purchases(first: $first, after: $after, status: $status, from: $from, to: $to) {\n        nodes { id createdAt status meterNumber holderName denomination totalPaid kwh }\n        pageInfo { hasNextPage endCursor }\n      }\n    }\n  }\n": typeof types.MeterHistoryDocument,
    "\n  query Inquiry($number: String!) {\n    inquiry(number: $number) {\n      meterNumber\n      idpel\n      holderName\n      tariffCode\n      powerVa\n      matchedBy\n      checkDigitValid\n      region { name }\n    }\n  }\n": typeof types.InquiryDocument,
    "\n  mutation SaveMeter($number: String!, $alias: String) {\n    saveMeter(number: $number, alias: $alias) { alias meter { number } }\n  }\n": typeof types.SaveMeterDocument,
    "\n  query Profile {\n    me { id name email phone createdAt }\n  }\n": typeof types.ProfileDocument,
    "\n  mutation UpdateProfile($input: UpdateProfileInput!) {\n    updateProfile(input: $input) { id name email phone }\n  }\n": typeof types.UpdateProfileDocument,
};
const documents: Documents = {
    "\n  mutation SignIn($email: String!, $password: String!) {\n    signIn(email: $email, password: $password) {\n      token\n      expiresAt\n      customer { id name }\n    }\n  }\n": types.SignInDocument,
    "\n  mutation SignUp($input: SignUpInput!) {\n    signUp(input: $input) {\n      token\n      expiresAt\n      customer { id name }\n    }\n  }\n": types.SignUpDocument,
    "\n  query Dashboard {\n    me {\n      id\n      name\n      wallet { balance currency }\n      meters {\n        alias\n        meter {\n          number\n          idpel\n          holderName\n          powerVa\n          status\n          monthlyKwhLimit\n          tariff { code }\n          region { name }\n          monthlyUsage { month kwh limitKwh }\n        }\n      }\n      purchases(first: 5) {\n        nodes { id createdAt status meterNumber holderName denomination totalPaid kwh }\n      }\n    }\n  }\n": types.DashboardDocument,
    "\n  query BuyOptions {\n    me {\n      id\n      wallet { balance }\n      meters {\n        alias\n        meter { number holderName powerVa status tariff { code } }\n      }\n    }\n    denominations { amount }\n  }\n": types.BuyOptionsDocument,
    "\n  query Quote($meterNumber: String!, $denomination: Decimal!) {\n    quote(meterNumber: $meterNumber, denomination: $denomination) {\n      meterNumber\n      idpel\n      holderName\n      tariffCode\n      powerVa\n      nominal\n      adminFee\n      stampDuty\n      instalment\n      ppjRate\n      ppj\n      ppnRate\n      ppn\n      energyValue\n      tariffRate\n      kwh\n      totalPaid\n      instalmentDebtLeft\n      monthlyKwhRemaining\n      keyChange { tokensBeforeCredit }\n    }\n  }\n": types.QuoteDocument,
    "\n  fragment PurchaseFields on Purchase {\n    id\n    clientReference\n    channelReference\n    status\n    meterNumber\n    holderName\n    idpel\n    tariffCode\n    powerVa\n    denomination\n    nominal\n    adminFee\n    stampDuty\n    ppn\n    ppj\n    instalment\n    energyValue\n    kwh\n    totalPaid\n    token\n    keyChangeTokens\n    instalmentDebtLeft\n    billerReference\n    failureCode\n    issuedAt\n    createdAt\n  }\n": types.PurchaseFieldsFragmentDoc,
    "\n  mutation PurchaseToken($meterNumber: String!, $denomination: Decimal!, $clientReference: String!) {\n    purchaseToken(meterNumber: $meterNumber, denomination: $denomination, clientReference: $clientReference) {\n      ...PurchaseFields\n    }\n  }\n": types.PurchaseTokenDocument,
    "\n  query PurchaseByReference($clientReference: String!) {\n    purchaseByReference(clientReference: $clientReference) { id status }\n  }\n": types.PurchaseByReferenceDocument,
    "\n  query Purchase($id: ID!) {\n    purchase(id: $id) {\n      ...PurchaseFields\n      meter { region { name } }\n    }\n  }\n": types.PurchaseDocument,
    "\n  mutation Reprint($id: ID!) {\n    reprintToken(id: $id) { ...PurchaseFields }\n  }\n": types.ReprintDocument,
    "\n  query Wallet {\n    wallet { balance currency }\n  }\n": types.WalletDocument,
    "\n  fragment TopUpFields on TopUp {\n    id amount method status bankCode bankName vaNumber qrisPayload expiresAt paidAt\n  }\n": types.TopUpFieldsFragmentDoc,
    "\n  mutation CreateTopUp($amount: Decimal!, $method: TopUpMethod!, $bankCode: String) {\n    createTopUp(amount: $amount, method: $method, bankCode: $bankCode) { ...TopUpFields }\n  }\n": types.CreateTopUpDocument,
    "\n  query TopUp($id: ID!) {\n    topUp(id: $id) { ...TopUpFields }\n    wallet { balance }\n  }\n": types.TopUpDocument,
    "\n  mutation CancelTopUp($id: ID!) {\n    cancelTopUp(id: $id) { ...TopUpFields }\n  }\n": types.CancelTopUpDocument,
    "\n  query History($first: Int!, $after: String, $status: PurchaseStatus, $from: DateTime, $to: DateTime) {\n    me {\n      id\n      meters { alias meter { number } }\n      purchases(first: $first, after: $after, status: $status, from: $from, to: $to) {\n        nodes { id createdAt status meterNumber holderName denomination totalPaid kwh }\n        pageInfo { hasNextPage endCursor }\n      }\n    }\n  }\n": types.HistoryDocument,
    "\n  query MeterHistory($number: String!, $first: Int!, $after: String, $status: PurchaseStatus, $from: DateTime, $to: DateTime) {\n    meter(number: $number) {\n      number\n      purchases(first: $first, after: $after, status: $status, from: $from, to: $to) {\n        nodes { id createdAt status meterNumber holderName denomination totalPaid kwh }\n        pageInfo { hasNextPage endCursor }\n      }\n    }\n  }\n": types.MeterHistoryDocument,
    "\n  query Inquiry($number: String!) {\n    inquiry(number: $number) {\n      meterNumber\n      idpel\n      holderName\n      tariffCode\n      powerVa\n      matchedBy\n      checkDigitValid\n      region { name }\n    }\n  }\n": types.InquiryDocument,
    "\n  mutation SaveMeter($number: String!, $alias: String) {\n    saveMeter(number: $number, alias: $alias) { alias meter { number } }\n  }\n": types.SaveMeterDocument,
    "\n  query Profile {\n    me { id name email phone createdAt }\n  }\n": types.ProfileDocument,
    "\n  mutation UpdateProfile($input: UpdateProfileInput!) {\n    updateProfile(input: $input) { id name email phone }\n  }\n": types.UpdateProfileDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SignIn($email: String!, $password: String!) {\n    signIn(email: $email, password: $password) {\n      token\n      expiresAt\n      customer { id name }\n    }\n  }\n"): (typeof documents)["\n  mutation SignIn($email: String!, $password: String!) {\n    signIn(email: $email, password: $password) {\n      token\n      expiresAt\n      customer { id name }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SignUp($input: SignUpInput!) {\n    signUp(input: $input) {\n      token\n      expiresAt\n      customer { id name }\n    }\n  }\n"): (typeof documents)["\n  mutation SignUp($input: SignUpInput!) {\n    signUp(input: $input) {\n      token\n      expiresAt\n      customer { id name }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Dashboard {\n    me {\n      id\n      name\n      wallet { balance currency }\n      meters {\n        alias\n        meter {\n          number\n          idpel\n          holderName\n          powerVa\n          status\n          monthlyKwhLimit\n          tariff { code }\n          region { name }\n          monthlyUsage { month kwh limitKwh }\n        }\n      }\n      purchases(first: 5) {\n        nodes { id createdAt status meterNumber holderName denomination totalPaid kwh }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Dashboard {\n    me {\n      id\n      name\n      wallet { balance currency }\n      meters {\n        alias\n        meter {\n          number\n          idpel\n          holderName\n          powerVa\n          status\n          monthlyKwhLimit\n          tariff { code }\n          region { name }\n          monthlyUsage { month kwh limitKwh }\n        }\n      }\n      purchases(first: 5) {\n        nodes { id createdAt status meterNumber holderName denomination totalPaid kwh }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query BuyOptions {\n    me {\n      id\n      wallet { balance }\n      meters {\n        alias\n        meter { number holderName powerVa status tariff { code } }\n      }\n    }\n    denominations { amount }\n  }\n"): (typeof documents)["\n  query BuyOptions {\n    me {\n      id\n      wallet { balance }\n      meters {\n        alias\n        meter { number holderName powerVa status tariff { code } }\n      }\n    }\n    denominations { amount }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Quote($meterNumber: String!, $denomination: Decimal!) {\n    quote(meterNumber: $meterNumber, denomination: $denomination) {\n      meterNumber\n      idpel\n      holderName\n      tariffCode\n      powerVa\n      nominal\n      adminFee\n      stampDuty\n      instalment\n      ppjRate\n      ppj\n      ppnRate\n      ppn\n      energyValue\n      tariffRate\n      kwh\n      totalPaid\n      instalmentDebtLeft\n      monthlyKwhRemaining\n      keyChange { tokensBeforeCredit }\n    }\n  }\n"): (typeof documents)["\n  query Quote($meterNumber: String!, $denomination: Decimal!) {\n    quote(meterNumber: $meterNumber, denomination: $denomination) {\n      meterNumber\n      idpel\n      holderName\n      tariffCode\n      powerVa\n      nominal\n      adminFee\n      stampDuty\n      instalment\n      ppjRate\n      ppj\n      ppnRate\n      ppn\n      energyValue\n      tariffRate\n      kwh\n      totalPaid\n      instalmentDebtLeft\n      monthlyKwhRemaining\n      keyChange { tokensBeforeCredit }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment PurchaseFields on Purchase {\n    id\n    clientReference\n    channelReference\n    status\n    meterNumber\n    holderName\n    idpel\n    tariffCode\n    powerVa\n    denomination\n    nominal\n    adminFee\n    stampDuty\n    ppn\n    ppj\n    instalment\n    energyValue\n    kwh\n    totalPaid\n    token\n    keyChangeTokens\n    instalmentDebtLeft\n    billerReference\n    failureCode\n    issuedAt\n    createdAt\n  }\n"): (typeof documents)["\n  fragment PurchaseFields on Purchase {\n    id\n    clientReference\n    channelReference\n    status\n    meterNumber\n    holderName\n    idpel\n    tariffCode\n    powerVa\n    denomination\n    nominal\n    adminFee\n    stampDuty\n    ppn\n    ppj\n    instalment\n    energyValue\n    kwh\n    totalPaid\n    token\n    keyChangeTokens\n    instalmentDebtLeft\n    billerReference\n    failureCode\n    issuedAt\n    createdAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PurchaseToken($meterNumber: String!, $denomination: Decimal!, $clientReference: String!) {\n    purchaseToken(meterNumber: $meterNumber, denomination: $denomination, clientReference: $clientReference) {\n      ...PurchaseFields\n    }\n  }\n"): (typeof documents)["\n  mutation PurchaseToken($meterNumber: String!, $denomination: Decimal!, $clientReference: String!) {\n    purchaseToken(meterNumber: $meterNumber, denomination: $denomination, clientReference: $clientReference) {\n      ...PurchaseFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PurchaseByReference($clientReference: String!) {\n    purchaseByReference(clientReference: $clientReference) { id status }\n  }\n"): (typeof documents)["\n  query PurchaseByReference($clientReference: String!) {\n    purchaseByReference(clientReference: $clientReference) { id status }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Purchase($id: ID!) {\n    purchase(id: $id) {\n      ...PurchaseFields\n      meter { region { name } }\n    }\n  }\n"): (typeof documents)["\n  query Purchase($id: ID!) {\n    purchase(id: $id) {\n      ...PurchaseFields\n      meter { region { name } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Reprint($id: ID!) {\n    reprintToken(id: $id) { ...PurchaseFields }\n  }\n"): (typeof documents)["\n  mutation Reprint($id: ID!) {\n    reprintToken(id: $id) { ...PurchaseFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Wallet {\n    wallet { balance currency }\n  }\n"): (typeof documents)["\n  query Wallet {\n    wallet { balance currency }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment TopUpFields on TopUp {\n    id amount method status bankCode bankName vaNumber qrisPayload expiresAt paidAt\n  }\n"): (typeof documents)["\n  fragment TopUpFields on TopUp {\n    id amount method status bankCode bankName vaNumber qrisPayload expiresAt paidAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateTopUp($amount: Decimal!, $method: TopUpMethod!, $bankCode: String) {\n    createTopUp(amount: $amount, method: $method, bankCode: $bankCode) { ...TopUpFields }\n  }\n"): (typeof documents)["\n  mutation CreateTopUp($amount: Decimal!, $method: TopUpMethod!, $bankCode: String) {\n    createTopUp(amount: $amount, method: $method, bankCode: $bankCode) { ...TopUpFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TopUp($id: ID!) {\n    topUp(id: $id) { ...TopUpFields }\n    wallet { balance }\n  }\n"): (typeof documents)["\n  query TopUp($id: ID!) {\n    topUp(id: $id) { ...TopUpFields }\n    wallet { balance }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelTopUp($id: ID!) {\n    cancelTopUp(id: $id) { ...TopUpFields }\n  }\n"): (typeof documents)["\n  mutation CancelTopUp($id: ID!) {\n    cancelTopUp(id: $id) { ...TopUpFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query History($first: Int!, $after: String, $status: PurchaseStatus, $from: DateTime, $to: DateTime) {\n    me {\n      id\n      meters { alias meter { number } }\n      purchases(first: $first, after: $after, status: $status, from: $from, to: $to) {\n        nodes { id createdAt status meterNumber holderName denomination totalPaid kwh }\n        pageInfo { hasNextPage endCursor }\n      }\n    }\n  }\n"): (typeof documents)["\n  query History($first: Int!, $after: String, $status: PurchaseStatus, $from: DateTime, $to: DateTime) {\n    me {\n      id\n      meters { alias meter { number } }\n      purchases(first: $first, after: $after, status: $status, from: $from, to: $to) {\n        nodes { id createdAt status meterNumber holderName denomination totalPaid kwh }\n        pageInfo { hasNextPage endCursor }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MeterHistory($number: String!, $first: Int!, $after: String, $status: PurchaseStatus, $from: DateTime, $to: DateTime) {\n    meter(number: $number) {\n      number\n      purchases(first: $first, after: $after, status: $status, from: $from, to: $to) {\n        nodes { id createdAt status meterNumber holderName denomination totalPaid kwh }\n        pageInfo { hasNextPage endCursor }\n      }\n    }\n  }\n"): (typeof documents)["\n  query MeterHistory($number: String!, $first: Int!, $after: String, $status: PurchaseStatus, $from: DateTime, $to: DateTime) {\n    meter(number: $number) {\n      number\n      purchases(first: $first, after: $after, status: $status, from: $from, to: $to) {\n        nodes { id createdAt status meterNumber holderName denomination totalPaid kwh }\n        pageInfo { hasNextPage endCursor }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Inquiry($number: String!) {\n    inquiry(number: $number) {\n      meterNumber\n      idpel\n      holderName\n      tariffCode\n      powerVa\n      matchedBy\n      checkDigitValid\n      region { name }\n    }\n  }\n"): (typeof documents)["\n  query Inquiry($number: String!) {\n    inquiry(number: $number) {\n      meterNumber\n      idpel\n      holderName\n      tariffCode\n      powerVa\n      matchedBy\n      checkDigitValid\n      region { name }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SaveMeter($number: String!, $alias: String) {\n    saveMeter(number: $number, alias: $alias) { alias meter { number } }\n  }\n"): (typeof documents)["\n  mutation SaveMeter($number: String!, $alias: String) {\n    saveMeter(number: $number, alias: $alias) { alias meter { number } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Profile {\n    me { id name email phone createdAt }\n  }\n"): (typeof documents)["\n  query Profile {\n    me { id name email phone createdAt }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateProfile($input: UpdateProfileInput!) {\n    updateProfile(input: $input) { id name email phone }\n  }\n"): (typeof documents)["\n  mutation UpdateProfile($input: UpdateProfileInput!) {\n    updateProfile(input: $input) { id name email phone }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;