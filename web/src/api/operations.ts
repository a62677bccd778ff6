// Every GraphQL operation the app sends. GraphQL Code Generator turns each into a typed document
// (src/gql/) and lists it in the persisted-documents manifest.
import { graphql } from "../gql";

export const SignInMutation = graphql(`
  mutation SignIn($email: String!, $password: String!) {
    signIn(email: $email, password: $password) {
      token
      expiresAt
      customer { id name }
    }
  }
`);

export const SignUpMutation = graphql(`
  mutation SignUp($input: SignUpInput!) {
    signUp(input: $input) {
      token
      expiresAt
      customer { id name }
    }
  }
`);

/** The dashboard: users, master and transactions answer it in one request. */
export const DashboardQuery = graphql(`
  query Dashboard {
    me {
      id
      name
      wallet { balance currency }
      meters {
        alias
        meter {
          number
          idpel
          holderName
          powerVa
          status
          monthlyKwhLimit
          tariff { code }
          region { name }
          monthlyUsage { month kwh limitKwh }
        }
      }
      purchases(first: 5) {
        nodes { id createdAt status meterNumber holderName denomination totalPaid kwh }
      }
    }
  }
`);

export const BuyOptionsQuery = graphql(`
  query BuyOptions {
    me {
      id
      wallet { balance }
      meters {
        alias
        meter { number holderName powerVa status tariff { code } }
      }
    }
    denominations { amount }
  }
`);

export const QuoteQuery = graphql(`
  query Quote($meterNumber: String!, $denomination: Decimal!) {
    quote(meterNumber: $meterNumber, denomination: $denomination) {
      meterNumber
      idpel
      holderName
      tariffCode
      powerVa
      nominal
      adminFee
      stampDuty
      instalment
      ppjRate
      ppj
      ppnRate
      ppn
      energyValue
      tariffRate
      kwh
      totalPaid
      instalmentDebtLeft
      monthlyKwhRemaining
      keyChange { tokensBeforeCredit }
    }
  }
`);

export const PurchaseFieldsFragment = graphql(`
  fragment PurchaseFields on Purchase {
    id
    clientReference
    channelReference
    status
    meterNumber
    holderName
    idpel
    tariffCode
    powerVa
    denomination
    nominal
    adminFee
    stampDuty
    ppn
    ppj
    instalment
    energyValue
    kwh
    totalPaid
    token
    keyChangeTokens
    instalmentDebtLeft
    billerReference
    failureCode
    issuedAt
    createdAt
  }
`);

export const PurchaseTokenMutation = graphql(`
  mutation PurchaseToken($meterNumber: String!, $denomination: Decimal!, $clientReference: String!) {
    purchaseToken(meterNumber: $meterNumber, denomination: $denomination, clientReference: $clientReference) {
      ...PurchaseFields
    }
  }
`);

export const PurchaseByReferenceQuery = graphql(`
  query PurchaseByReference($clientReference: String!) {
    purchaseByReference(clientReference: $clientReference) { id status }
  }
`);

export const PurchaseQuery = graphql(`
  query Purchase($id: ID!) {
    purchase(id: $id) {
      ...PurchaseFields
      meter { region { name } }
    }
  }
`);

export const ReprintMutation = graphql(`
  mutation Reprint($id: ID!) {
    reprintToken(id: $id) { ...PurchaseFields }
  }
`);

export const WalletQuery = graphql(`
  query Wallet {
    wallet { balance currency }
  }
`);

export const TopUpFieldsFragment = graphql(`
  fragment TopUpFields on TopUp {
    id amount method status bankCode bankName vaNumber qrisPayload expiresAt paidAt
  }
`);

/** Open a top-up: the payment provider answers the virtual account or QRIS code to pay. */
export const CreateTopUpMutation = graphql(`
  mutation CreateTopUp($amount: Decimal!, $method: TopUpMethod!, $bankCode: String) {
    createTopUp(amount: $amount, method: $method, bankCode: $bankCode) { ...TopUpFields }
  }
`);

/** One top-up and the balance, polled while the payment is awaited. */
export const TopUpQuery = graphql(`
  query TopUp($id: ID!) {
    topUp(id: $id) { ...TopUpFields }
    wallet { balance }
  }
`);

export const CancelTopUpMutation = graphql(`
  mutation CancelTopUp($id: ID!) {
    cancelTopUp(id: $id) { ...TopUpFields }
  }
`);

export const HistoryQuery = graphql(`
  query History($first: Int!, $after: String, $status: PurchaseStatus, $from: DateTime, $to: DateTime) {
    me {
      id
      meters { alias meter { number } }
      purchases(first: $first, after: $after, status: $status, from: $from, to: $to) {
        nodes { id createdAt status meterNumber holderName denomination totalPaid kwh }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`);

export const MeterHistoryQuery = graphql(`
  query MeterHistory($number: String!, $first: Int!, $after: String, $status: PurchaseStatus, $from: DateTime, $to: DateTime) {
    meter(number: $number) {
      number
      purchases(first: $first, after: $after, status: $status, from: $from, to: $to) {
        nodes { id createdAt status meterNumber holderName denomination totalPaid kwh }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`);

export const InquiryQuery = graphql(`
  query Inquiry($number: String!) {
    inquiry(number: $number) {
      meterNumber
      idpel
      holderName
      tariffCode
      powerVa
      matchedBy
      checkDigitValid
      region { name }
    }
  }
`);

export const SaveMeterMutation = graphql(`
  mutation SaveMeter($number: String!, $alias: String) {
    saveMeter(number: $number, alias: $alias) { alias meter { number } }
  }
`);

export const ProfileQuery = graphql(`
  query Profile {
    me { id name email phone createdAt }
  }
`);

export const UpdateProfileMutation = graphql(`
  mutation UpdateProfile($input: UpdateProfileInput!) {
    updateProfile(input: $input) { id name email phone }
  }
`);
